//! `create`: creates one kernel socket through the ioctl interface and prints its id.

use super::{parse_request, Global};
use crate::device::Netns;
use crate::error::Error;
use crate::sys;

// The arguments of `create` (its help text is the doc comment of `Cmd::Create` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Family: name (inet, inet6, unix, packet, netlink) or number.
    pub family: String,
    /// Type: name (stream, dgram, raw, seqpacket) or number, with |nonblock / |cloexec.
    #[arg(name = "type")]
    pub sock_type: String,
    /// Protocol: name (tcp, udp, icmp) or number.
    #[arg(default_value = "0")]
    pub protocol: String,
    /// Create in the netns of this nsfs file (/proc/PID/ns/net, /run/netns/NAME).
    #[arg(long, conflicts_with = "pid")]
    pub netns: Option<String>,
    /// Create in the netns of this process.
    #[arg(long)]
    pub pid: Option<i32>,
    /// The socket pins its netns (sk_net_refcnt_upgrade).
    #[arg(long)]
    pub hold: bool,
}

/// Creates one kernel socket through the ioctl interface and prints its id.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        family,
        sock_type,
        protocol,
        netns,
        pid,
        hold,
    } = args;
    let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
    // A bad --netns is the caller's environment, whatever the device.
    let nsfile = netns
        .as_deref()
        .map(sys::open_netns_arg)
        .transpose()
        .map_err(Error::Environment)?;
    let dev = g.open_device()?;
    let sel = match (&nsfile, pid) {
        (Some(f), _) => Netns::Fd(std::os::fd::AsRawFd::as_raw_fd(f)),
        (None, Some(pid)) => Netns::Pid(pid),
        (None, None) => Netns::Caller,
    };
    let c = dev
        .create(f, ty, p, sel, hold)
        .map_err(|e| Error::Refused(format!("create: {e} ({})", e.desc())))?;
    println!(
        "id={} netns={} latency_ns={}",
        c.id, c.netns_inode, c.latency_ns
    );
    Ok(())
}
