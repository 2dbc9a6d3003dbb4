struct Server;

#[gofer::scoped]
impl Server {
    fn serve(&self) {}
}

fn main() {
    Server.serve();
}
