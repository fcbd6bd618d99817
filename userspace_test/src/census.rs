//! `census`: the kernel socket census section of the report (docs/census.md),
//! parsed and printed as tables; `census on|off` turns it on or off through the ioctl.

use serde::Serialize;
use std::collections::BTreeMap;

/// One `key=value` line of the census section, by its first word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub fields: BTreeMap<String, String>,
}

impl Line {
    fn get(&self, k: &str) -> &str {
        self.fields.get(k).map_or("-", String::as_str)
    }
}

/// The census section of a report.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Census {
    /// False when the report says `# census: off`.
    pub on: bool,
    pub totals: BTreeMap<String, String>,
    /// `census_check`: `result=ok|MISMATCH|busy`, with the two counts when judged.
    pub check: BTreeMap<String, String>,
    pub sockets: Vec<Line>,
    pub creators: Vec<Line>,
    pub netns: Vec<Line>,
    pub linger: Vec<Line>,
    pub pinned: Vec<Line>,
}

fn pairs(rest: &str) -> Result<BTreeMap<String, String>, String> {
    rest.split_whitespace()
        .filter(|w| !w.starts_with('('))
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("not key=value: {kv:?}"))
        })
        .collect()
}

/// Parses the census section out of a whole report; an error names the malformed line.
pub fn parse(report: &str) -> Result<Census, String> {
    let mut c = Census::default();
    let mut seen = false;
    for l in report.lines() {
        if l == "# census: off" {
            seen = true;
        } else if l.starts_with("# census: on") {
            seen = true;
            c.on = true;
        } else if let Some(r) = l.strip_prefix("census_totals ") {
            c.totals = pairs(r)?;
        } else if let Some(r) = l.strip_prefix("census_check ") {
            // "result=busy (a create or release ran meanwhile)": the words in parentheses go.
            let r = r.split(" (").next().unwrap_or(r);
            c.check = pairs(r)?;
        } else if let Some(r) = l.strip_prefix("kernel_socket ") {
            c.sockets.push(Line { fields: pairs(r)? });
        } else if let Some(r) = l.strip_prefix("census creator=") {
            let mut f = pairs(&format!("creator={r}"))?;
            f.entry("live".into()).or_default();
            c.creators.push(Line { fields: f });
        } else if let Some(r) = l.strip_prefix("census netns=") {
            c.netns.push(Line {
                fields: pairs(&format!("netns={r}"))?,
            });
        } else if let Some(r) = l.strip_prefix("linger ") {
            c.linger.push(Line { fields: pairs(r)? });
        } else if let Some(r) = l.strip_prefix("pinned ") {
            c.pinned.push(Line { fields: pairs(r)? });
        }
    }
    if !seen {
        return Err("no census section (a module older than the census?)".into());
    }
    Ok(c)
}

impl Census {
    /// Only what concerns the netns with this inode number.
    pub fn only_netns(&mut self, inum: u64) {
        let n = inum.to_string();
        let keep = |l: &Line| l.get("netns") == n;
        self.sockets.retain(keep);
        self.netns.retain(keep);
        self.linger.retain(keep);
        self.pinned.retain(keep);
    }

    /// The tables: sockets, creators, namespaces and the auditor's findings.
    pub fn print(&self) {
        if !self.on {
            println!("census: off (turn it on with `userspace_test census on`)");
            return;
        }
        let t = |k: &str| self.totals.get(k).map_or("?", String::as_str);
        println!(
            "census: {} live, {} created, {} destroyed, {} dropped, {} missed (sockets made before it started are not known)",
            t("live"),
            t("created"),
            t("destroyed"),
            t("dropped"),
            t("missed")
        );
        let mut s = crate::table::new(
            &[
                "NETNS", "FAMILY", "TYPE", "PROTO", "STATE", "REF", "PORT", "CREATOR", "PID",
                "COMM", "AGE_MS", "AUDIT",
            ],
            &[6, 8, 10],
        );
        let short = |v: &str| v.split('(').next().unwrap_or(v).to_string();
        for l in &self.sockets {
            s.row([
                l.get("netns").to_string(),
                short(l.get("family")),
                short(l.get("type")),
                short(l.get("protocol")),
                short(l.get("state")),
                l.get("netns_ref").to_string(),
                l.get("port").to_string(),
                l.get("creator").to_string(),
                l.get("pid").to_string(),
                l.get("comm").to_string(),
                l.get("age_ms").to_string(),
                l.get("audit").to_string(),
            ]);
        }
        s.print();
        println!();
        let mut c = crate::table::new(&["CREATOR", "LIVE", "CREATED", "DESTROYED"], &[1, 2, 3]);
        for l in &self.creators {
            c.row([
                l.get("creator").to_string(),
                l.get("live").to_string(),
                l.get("created").to_string(),
                l.get("destroyed").to_string(),
            ]);
        }
        c.print();
        for l in &self.linger {
            println!(
                "linger: netns {} is dismantled or going, {} census sockets still live in it",
                l.get("netns"),
                l.get("sockets")
            );
        }
        for l in &self.pinned {
            println!(
                "pinned: netns {} is kept alive only by kernel sockets ({} references): {}",
                l.get("netns"),
                l.get("refs"),
                l.get("pinned_by")
            );
        }
        match self.check.get("result").map(String::as_str) {
            Some("ok") | None => {}
            Some(r) => println!("census_check: {r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "# rust_sockmod 0.2.0\n\
        stat netns=1 family=inet(2)\n\
        # census: on since_ms=5 (sockets created before it started are not known)\n\
        census_totals live=2 created=3 destroyed=1 dropped=0 missed=0 sites=2 sites_full=0 max=10 memory_bytes=100\n\
        census_check own=1 table=1 result=ok\n\
        kernel_socket seq=1 netns=7 family=netlink(16) type=raw(3) protocol=0(0) state=?(7) netns_ref=passive ino=0 cookie=1 port=0 creator=vmlinux:rtnetlink_net_init chain=a<b pid=3 comm=ip age_ms=4 clone=no audit=-\n\
        kernel_socket seq=2 netns=8 family=inet(2) type=dgram(2) protocol=udp(17) state=?(7) netns_ref=counted ino=9 cookie=2 port=0 creator=rust_sockmod:FreshSocket::create chain=a pid=3 comm=sh age_ms=1 clone=no audit=pinning\n\
        census creator=vmlinux:rtnetlink_net_init live=1 created=2 destroyed=1\n\
        census netns=8 live=1 counted=1 passive=0 refs=1 alive=yes\n\
        pinned netns=8 refs=1 pinned_by=cookie:2\n";

    #[test]
    fn parses_every_kind_of_line() {
        let c = parse(REPORT).unwrap();
        assert!(c.on);
        assert_eq!(c.totals["live"], "2");
        assert_eq!(c.check["result"], "ok");
        assert_eq!(c.sockets.len(), 2);
        assert_eq!(
            c.sockets[1].get("creator"),
            "rust_sockmod:FreshSocket::create"
        );
        assert_eq!(c.creators[0].get("created"), "2");
        assert_eq!(c.pinned[0].get("pinned_by"), "cookie:2");
    }

    #[test]
    fn filters_one_netns_and_knows_off() {
        let mut c = parse(REPORT).unwrap();
        c.only_netns(8);
        assert_eq!(c.sockets.len(), 1);
        assert_eq!(c.pinned.len(), 1);
        assert!(!parse("# rust_sockmod 0.2.0\n# census: off\n").unwrap().on);
        assert!(parse("# rust_sockmod 0.2.0\n").is_err());
        assert!(parse("# census: on\nkernel_socket novalue\n").is_err());
    }
}
