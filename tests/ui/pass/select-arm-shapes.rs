// Arm shapes the `select!` parser must accept: block bodies without commas,
// control flow in bodies, operands of any expression form, a sent closure
// with several parameters, a nested `select!`, and a channel named `case`.
#![deny(warnings)]
use goscope::prelude::*;

struct Pipes {
    rx: Receiver<i32>,
    txs: Vec<Sender<i32>>,
}

fn pick(p: &Pipes) -> Option<i32> {
    select! {
        v = <-p.rx => return v,
        p.txs[0] <- 1 => {}
        default => {}
    }
    None
}

fn fallible(rx: &Receiver<i32>) -> Result<i32, String> {
    let n = select! {
        v = <-rx => v.ok_or("closed")?,
        <-after(Duration::from_millis(1)) => 0,
    };
    Ok(n)
}

fn main() {
    let (tx, rx) = chan::<i32>(4);
    let (ftx, frx) = chan::<fn(i32, i32) -> i32>(1);
    let (case, case_rx) = chan::<i32>(1);
    let mut seen = 0;
    for round in 0..4 {
        select! {
            mut v = <-rx => {
                v = v.map(|n| n + 1);
                seen += v.unwrap_or(0);
            }
            _ = <-&rx => continue,
            tx <- if round > 1 { 2 } else { 1 } => {
                select! {
                    <-rx.clone() => {}
                    default => {}
                }
            }
            ftx <- |a, b| a + b => {}
            case <- round => {}
            <-never::<()>() => unreachable!(),
            default => break
        }
    }
    let _ = (seen, frx.try_recv(), case_rx.try_recv());
    let pipes = Pipes {
        rx: chan::<i32>(1).1,
        txs: vec![chan::<i32>(1).0],
    };
    let _ = pick(&pipes);
    let _ = fallible(&rx);
}
