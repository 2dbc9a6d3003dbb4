// A `select!` with 40 arms: 20 receives and 20 sends.
#![deny(warnings)]
// Arm 0 adds 0, like every other arm adds its number.
#![allow(clippy::identity_op)]
use goscope::prelude::*;

fn main() {
    let (tx0, rx0) = chan::<i32>(1);
    let (tx1, rx1) = chan::<i32>(1);
    let (tx2, rx2) = chan::<i32>(1);
    let (tx3, rx3) = chan::<i32>(1);
    let (tx4, rx4) = chan::<i32>(1);
    let (tx5, rx5) = chan::<i32>(1);
    let (tx6, rx6) = chan::<i32>(1);
    let (tx7, rx7) = chan::<i32>(1);
    let (tx8, rx8) = chan::<i32>(1);
    let (tx9, rx9) = chan::<i32>(1);
    let (tx10, rx10) = chan::<i32>(1);
    let (tx11, rx11) = chan::<i32>(1);
    let (tx12, rx12) = chan::<i32>(1);
    let (tx13, rx13) = chan::<i32>(1);
    let (tx14, rx14) = chan::<i32>(1);
    let (tx15, rx15) = chan::<i32>(1);
    let (tx16, rx16) = chan::<i32>(1);
    let (tx17, rx17) = chan::<i32>(1);
    let (tx18, rx18) = chan::<i32>(1);
    let (tx19, rx19) = chan::<i32>(1);
    let (tx20, rx20) = chan::<i32>(1);
    let (tx21, rx21) = chan::<i32>(1);
    let (tx22, rx22) = chan::<i32>(1);
    let (tx23, rx23) = chan::<i32>(1);
    let (tx24, rx24) = chan::<i32>(1);
    let (tx25, rx25) = chan::<i32>(1);
    let (tx26, rx26) = chan::<i32>(1);
    let (tx27, rx27) = chan::<i32>(1);
    let (tx28, rx28) = chan::<i32>(1);
    let (tx29, rx29) = chan::<i32>(1);
    let (tx30, rx30) = chan::<i32>(1);
    let (tx31, rx31) = chan::<i32>(1);
    let (tx32, rx32) = chan::<i32>(1);
    let (tx33, rx33) = chan::<i32>(1);
    let (tx34, rx34) = chan::<i32>(1);
    let (tx35, rx35) = chan::<i32>(1);
    let (tx36, rx36) = chan::<i32>(1);
    let (tx37, rx37) = chan::<i32>(1);
    let (tx38, rx38) = chan::<i32>(1);
    let (tx39, rx39) = chan::<i32>(1);
    let chosen: i32 = select! {
        v = <-rx0 => 0 + v.unwrap_or(0),
        tx1 <- 1 => 1,
        v = <-rx2 => 2 + v.unwrap_or(0),
        tx3 <- 3 => 3,
        v = <-rx4 => 4 + v.unwrap_or(0),
        tx5 <- 5 => 5,
        v = <-rx6 => 6 + v.unwrap_or(0),
        tx7 <- 7 => 7,
        v = <-rx8 => 8 + v.unwrap_or(0),
        tx9 <- 9 => 9,
        v = <-rx10 => 10 + v.unwrap_or(0),
        tx11 <- 11 => 11,
        v = <-rx12 => 12 + v.unwrap_or(0),
        tx13 <- 13 => 13,
        v = <-rx14 => 14 + v.unwrap_or(0),
        tx15 <- 15 => 15,
        v = <-rx16 => 16 + v.unwrap_or(0),
        tx17 <- 17 => 17,
        v = <-rx18 => 18 + v.unwrap_or(0),
        tx19 <- 19 => 19,
        v = <-rx20 => 20 + v.unwrap_or(0),
        tx21 <- 21 => 21,
        v = <-rx22 => 22 + v.unwrap_or(0),
        tx23 <- 23 => 23,
        v = <-rx24 => 24 + v.unwrap_or(0),
        tx25 <- 25 => 25,
        v = <-rx26 => 26 + v.unwrap_or(0),
        tx27 <- 27 => 27,
        v = <-rx28 => 28 + v.unwrap_or(0),
        tx29 <- 29 => 29,
        v = <-rx30 => 30 + v.unwrap_or(0),
        tx31 <- 31 => 31,
        v = <-rx32 => 32 + v.unwrap_or(0),
        tx33 <- 33 => 33,
        v = <-rx34 => 34 + v.unwrap_or(0),
        tx35 <- 35 => 35,
        v = <-rx36 => 36 + v.unwrap_or(0),
        tx37 <- 37 => 37,
        v = <-rx38 => 38 + v.unwrap_or(0),
        tx39 <- 39 => 39,
    };
    let _ = chosen;
    let _ = (
        &tx0, &rx0, &tx1, &rx1, &tx2, &rx2, &tx3, &rx3, &tx4, &rx4, &tx5, &rx5, &tx6, &rx6, &tx7,
        &rx7, &tx8, &rx8, &tx9, &rx9, &tx10, &rx10, &tx11, &rx11, &tx12, &rx12, &tx13, &rx13,
        &tx14, &rx14, &tx15, &rx15, &tx16, &rx16, &tx17, &rx17, &tx18, &rx18, &tx19, &rx19, &tx20,
        &rx20, &tx21, &rx21, &tx22, &rx22, &tx23, &rx23, &tx24, &rx24, &tx25, &rx25, &tx26, &rx26,
        &tx27, &rx27, &tx28, &rx28, &tx29, &rx29, &tx30, &rx30, &tx31, &rx31, &tx32, &rx32, &tx33,
        &rx33, &tx34, &rx34, &tx35, &rx35, &tx36, &rx36, &tx37, &rx37, &tx38, &rx38, &tx39, &rx39,
    );
}
