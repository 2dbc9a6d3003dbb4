struct Server;

#[goscope::scoped]
impl Server {
    fn serve(&self) {}
}

fn main() {
    Server.serve();
}
