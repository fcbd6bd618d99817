//! Parser for the text report of /dev/rust_sockmod (format: docs/interface.md, "Report format").

use std::collections::BTreeMap;

/// Section 1 of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: String,
    pub totals: BTreeMap<String, u64>,
    pub limits: BTreeMap<String, u64>,
}

/// Parses `key=value` pairs with numeric values.
fn parse_pairs(rest: &str) -> Result<BTreeMap<String, u64>, String> {
    rest.split_whitespace()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("not key=value: {kv:?}"))?;
            let v = v.parse::<u64>().map_err(|e| format!("{k}: {e}"))?;
            Ok((k.to_string(), v))
        })
        .collect()
}

/// Parses the header section (the first lines up to and including `limits`).
pub fn parse_header(text: &str) -> Result<Header, String> {
    let mut lines = text.lines();
    let first = lines.next().ok_or("empty report")?;
    let version = first
        .strip_prefix("# rust_sockmod ")
        .ok_or_else(|| format!("first line is not the report header: {first:?}"))?
        .to_string();
    let mut totals = None;
    let mut limits = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("totals ") {
            totals = Some(parse_pairs(rest)?);
        } else if let Some(rest) = line.strip_prefix("limits ") {
            limits = Some(parse_pairs(rest)?);
            break;
        }
    }
    let totals = totals.ok_or("no totals line")?;
    for key in [
        "attempts",
        "ok",
        "failed",
        "live",
        "released_user",
        "released_netns_exit",
        "released_unload",
    ] {
        if !totals.contains_key(key) {
            return Err(format!("totals line lacks {key}"));
        }
    }
    Ok(Header {
        version,
        totals,
        limits: limits.ok_or("no limits line")?,
    })
}

/// The `netns` line of section 1: namespaces alive, and the last netns teardown that released
/// sockets of the module (how long its `.pre_exit` hook took, and how many it released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetnsLine {
    pub alive: u64,
    pub exit_last_ns: u64,
    pub exit_last_sockets: u64,
}

/// Parses the `netns alive=N exit_last_ns=N exit_last_sockets=N` line of a report (or of its
/// first bytes: only section 1 is looked at).
pub fn parse_netns(text: &str) -> Result<NetnsLine, String> {
    let rest = text
        .lines()
        .take_while(|l| !l.starts_with("socket ") && !l.starts_with("stat "))
        .find_map(|l| l.strip_prefix("netns "))
        .ok_or("no netns line in the report's header")?;
    let pairs = parse_pairs(rest)?;
    let field = |k: &str| {
        pairs.get(k).copied().ok_or_else(|| {
            format!("netns line lacks {k} (a module without the teardown figures?): {rest:?}")
        })
    };
    Ok(NetnsLine {
        alive: field("alive")?,
        exit_last_ns: field("exit_last_ns")?,
        exit_last_sockets: field("exit_last_sockets")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: &str = "# rust_sockmod 0.1.0\n\
        totals attempts=0 ok=0 failed=0 live=0 released_user=0 released_netns_exit=0 released_unload=0\n\
        limits max_sockets=65536\n";

    #[test]
    fn parses_fresh_header() {
        let h = parse_header(FRESH).unwrap();
        assert_eq!(h.version, "0.1.0");
        assert_eq!(h.totals["attempts"], 0);
        assert_eq!(h.totals.len(), 7);
        assert_eq!(h.limits["max_sockets"], 65536);
    }

    #[test]
    fn rejects_foreign_text() {
        assert!(parse_header("hello\n")
            .unwrap_err()
            .contains("not the report header"));
        assert!(parse_header("").is_err());
    }

    #[test]
    fn rejects_missing_or_bad_fields() {
        let no_live = FRESH.replace(" live=0", "");
        assert!(parse_header(&no_live).unwrap_err().contains("lacks live"));
        let bad = FRESH.replace("ok=0", "ok=x");
        assert!(parse_header(&bad).unwrap_err().starts_with("ok:"));
        let no_limits = FRESH.replace("limits max_sockets=65536\n", "");
        assert_eq!(parse_header(&no_limits).unwrap_err(), "no limits line");
    }

    #[test]
    fn parses_the_netns_line_with_the_teardown_figures() {
        let text = format!(
            "{FRESH}netns alive=3 exit_last_ns=48213 exit_last_sockets=1\n\
             time as_of_ms=000000015331\n\
             # sockets: id netns ...\n"
        );
        assert_eq!(
            parse_netns(&text).unwrap(),
            NetnsLine {
                alive: 3,
                exit_last_ns: 48213,
                exit_last_sockets: 1
            }
        );
        // Before any teardown with sockets: zeros.
        let z = parse_netns("netns alive=1 exit_last_ns=0 exit_last_sockets=0\n").unwrap();
        assert_eq!((z.exit_last_ns, z.exit_last_sockets), (0, 0));
    }

    #[test]
    fn a_netns_line_without_the_figures_or_with_bad_ones_is_an_error() {
        let old = format!("{FRESH}netns alive=3\n");
        let e = parse_netns(&old).unwrap_err();
        assert!(e.starts_with("netns line lacks exit_last_ns"), "{e}");
        let bad = "netns alive=3 exit_last_ns=-5 exit_last_sockets=1\n";
        assert!(parse_netns(bad).unwrap_err().starts_with("exit_last_ns:"));
        assert_eq!(
            parse_netns(FRESH).unwrap_err(),
            "no netns line in the report's header"
        );
        // A socket line is not the header, whatever it contains.
        let later = format!("{FRESH}socket id=1 netns=4026531833\n");
        assert!(parse_netns(&later).is_err());
    }
}
