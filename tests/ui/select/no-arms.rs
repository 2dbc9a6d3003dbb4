use goscope::prelude::*;

fn main() {
    select! {}
}
