//! A small TAP printer.

#[derive(Default)]
pub struct Tap {
    pub n: usize,
    pub failed: usize,
}

impl Tap {
    pub fn ok(&mut self, what: &str) {
        self.n += 1;
        println!("ok {} - {what}", self.n);
    }

    pub fn fail(&mut self, what: &str, why: &str) {
        self.n += 1;
        self.failed += 1;
        println!("not ok {} - {what}", self.n);
        println!("# {why}");
    }

    pub fn check(&mut self, what: &str, cond: bool, why: &str) {
        if cond {
            self.ok(what)
        } else {
            self.fail(what, why)
        }
    }
}
