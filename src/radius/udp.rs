//! The UDP transport: bind (in the build phase), then receive loops that find each
//! datagram's client by source address, take an in-flight permit, and hand the request
//! to the executor. Unknown sources are dropped and counted before any other work.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use super::context::RadiusContext;
use super::counters::{DropReason, bump};
use super::exec::Request;
use super::proto::MAX_PACKET_LEN;
use super::request::{Peer, Service};

/// Bigger kernel buffers absorb bursts while all workers are busy (clients would
/// otherwise retransmit after a drop).
const SOCKET_BUFFER: usize = 4 << 20;

/// How often drops from unknown sources (or for want of capacity) are logged.
const LOG_INTERVAL_MICROS: i64 = 10_000_000;

/// A bound, not yet serving, UDP listener.
#[derive(Debug)]
pub struct Listener {
    pub socket: std::net::UdpSocket,
    pub service: Service,
    pub local: SocketAddr,
}

/// Binds `addr`. IPv6 sockets are v6-only so that `0.0.0.0` and `[::]` on the same port
/// can both be configured.
///
/// # Errors
/// The OS error, for the caller to name the config key.
pub fn bind(addr: SocketAddr, service: Service) -> io::Result<Listener> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Best effort: the kernel caps it at rmem_max.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    let socket: std::net::UdpSocket = socket.into();
    let local = socket.local_addr()?;
    Ok(Listener {
        socket,
        service,
        local,
    })
}

/// Spawns the receive loops of every listener into `tasks`: one that waits for the
/// socket, and `readers - 1` helpers it calls in when datagrams queue up. They stop when
/// `shutdown` turns true; requests already taken keep their permits until answered.
///
/// Only one loop per socket ever waits for it to become readable. Several waiting loops
/// would all be woken by every datagram, and at a few thousand requests a second (slow
/// hashes) those extra wake-ups cost more than the requests' own work. Helpers serve a
/// backlog only, so at high rates every core still takes datagrams off the socket.
///
/// # Errors
/// When a socket cannot be registered with the runtime.
pub fn serve(
    listeners: Vec<Listener>,
    ctx: Arc<RadiusContext>,
    in_flight: Arc<Semaphore>,
    readers: usize,
    shutdown: watch::Receiver<bool>,
    tasks: &mut JoinSet<()>,
) -> io::Result<()> {
    let logged = Arc::new(DropLog::default());
    for l in listeners {
        let reader = Reader {
            socket: Arc::new(UdpSocket::from_std(l.socket)?),
            service: l.service,
            ctx: Arc::clone(&ctx),
            in_flight: Arc::clone(&in_flight),
            backlog: Arc::new(Notify::new()),
            logged: Arc::clone(&logged),
        };
        for _ in 1..readers.max(1) {
            tasks.spawn(reader.clone().help(shutdown.clone()));
        }
        tasks.spawn(reader.wait_and_read(shutdown.clone()));
    }
    Ok(())
}

/// Datagrams taken in one go before the shutdown signal is looked at again.
const DRAIN_BURST: usize = 64;

/// When drops that belong to no client were last logged.
#[derive(Debug, Default)]
struct DropLog {
    unknown: AtomicI64,
    overloaded: AtomicI64,
}

fn may_log(last: &AtomicI64, now: i64) -> bool {
    let seen = last.load(Ordering::Relaxed);
    (seen == 0 || now.saturating_sub(seen) >= LOG_INTERVAL_MICROS)
        && last
            .compare_exchange(seen, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

#[derive(Clone)]
struct Reader {
    socket: Arc<UdpSocket>,
    service: Service,
    ctx: Arc<RadiusContext>,
    in_flight: Arc<Semaphore>,
    /// Rung when datagrams are waiting behind the one just taken.
    backlog: Arc<Notify>,
    logged: Arc<DropLog>,
}

impl Reader {
    /// The loop that waits for the socket, then takes what else is queued on it.
    async fn wait_and_read(self, mut shutdown: watch::Receiver<bool>) {
        // One byte more than the largest legal packet, so an oversized one is seen as such.
        let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
        loop {
            let received = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                r = self.socket.recv_from(&mut buf) => r,
            };
            match received {
                Ok((len, peer)) => self.take(buf.get(..len), peer),
                // ICMP errors and the like are per-datagram; the socket stays usable.
                Err(e) => tracing::debug!(error = %e, "receive error"),
            }
            self.drain(&mut buf, true);
        }
    }

    /// A helper: sleeps until called in, then takes datagrams until none is left.
    async fn help(self, mut shutdown: watch::Receiver<bool>) {
        let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                () = self.backlog.notified() => {}
            }
            while self.drain(&mut buf, false) {
                tokio::task::yield_now().await;
                if *shutdown.borrow() {
                    return;
                }
            }
        }
    }

    /// Takes up to [`DRAIN_BURST`] datagrams already queued; true if there may be more.
    fn drain(&self, buf: &mut [u8], call_helper: bool) -> bool {
        for _ in 0..DRAIN_BURST {
            match self.socket.try_recv_from(buf) {
                Ok((len, peer)) => {
                    if call_helper {
                        self.backlog.notify_one();
                    }
                    self.take(buf.get(..len), peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => tracing::debug!(error = %e, "receive error"),
            }
        }
        true
    }

    /// Finds the datagram's client and hands the request to the executor under the
    /// in-flight bound.
    fn take(&self, datagram: Option<&[u8]>, addr: SocketAddr) {
        let Some(datagram) = datagram else {
            return;
        };
        let ctx = &self.ctx;
        bump(&ctx.global.received);
        let Some(client) = ctx.clients().lookup(addr.ip()).map(Arc::clone) else {
            let n = ctx.global.unknown_client.fetch_add(1, Ordering::Relaxed) + 1;
            if may_log(&self.logged.unknown, ctx.clock.now_micros()) {
                tracing::info!(peer = %addr, dropped = n, "request from an unknown client dropped: no RADIUS client has this address (gatehousectl client add)");
            }
            return;
        };
        let arrived = ctx.clock.instant();
        let peer = Peer {
            addr,
            service: self.service,
        };
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            bump(&ctx.global.overloaded);
            client.counters.dropped(DropReason::Overloaded);
            if may_log(&self.logged.overloaded, ctx.clock.now_micros()) {
                tracing::warn!(client = %client.name, "overloaded: radius.max_in_flight requests are being worked on; new ones are dropped (clients retransmit)");
            }
            return;
        };
        let datagram = datagram.to_vec();
        let request_ctx = Arc::clone(ctx);
        let socket = Arc::clone(&self.socket);
        let work: Request = Box::pin(async move {
            if let Some(reply) = request_ctx.handle(&datagram, &client, peer, arrived).await
                && let Err(e) = socket.send_to(&reply, addr).await
            {
                tracing::debug!(peer = %addr, error = %e, "send failed");
            }
            drop(permit);
        });
        ctx.exec.start(work);
    }
}
