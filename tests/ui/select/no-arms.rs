use gofer::prelude::*;

fn main() {
    select! {}
}
