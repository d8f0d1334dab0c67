//! UDP listeners: bind (in the build phase), then receive loops that hand each datagram to
//! the pipeline under a bound on in-flight work.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use super::counters::bump;
use super::hashing::{Request, poll_offering_handoff};
use super::pipeline::{RadiusContext, Transport};
use super::proto::MAX_PACKET_LEN;

/// Bigger kernel buffers absorb bursts while all workers are busy (clients would
/// otherwise retransmit after a drop).
const SOCKET_BUFFER: usize = 4 << 20;

/// A bound, not yet serving, UDP listener.
#[derive(Debug)]
pub struct Listener {
    pub socket: std::net::UdpSocket,
    pub transport: Transport,
    pub local: SocketAddr,
}

/// Binds `addr`. IPv6 sockets are v6-only so that `0.0.0.0` and `[::]` on the same port
/// can both be configured.
///
/// # Errors
/// The OS error, for the caller to name the config key.
pub fn bind(addr: SocketAddr, transport: Transport) -> io::Result<Listener> {
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
        transport,
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
    for l in listeners {
        let reader = Reader {
            socket: Arc::new(UdpSocket::from_std(l.socket)?),
            transport: l.transport,
            ctx: Arc::clone(&ctx),
            in_flight: Arc::clone(&in_flight),
            backlog: Arc::new(Notify::new()),
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

#[derive(Clone)]
struct Reader {
    socket: Arc<UdpSocket>,
    transport: Transport,
    ctx: Arc<RadiusContext>,
    in_flight: Arc<Semaphore>,
    /// Rung when datagrams are waiting behind the one just taken.
    backlog: Arc<Notify>,
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

    /// Hands one datagram to the pipeline under the in-flight bound.
    fn take(&self, datagram: Option<&[u8]>, peer: SocketAddr) {
        let Some(datagram) = datagram.map(<[u8]>::to_vec) else {
            return;
        };
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            bump(&self.ctx.global.overloaded);
            return;
        };
        let request_ctx = Arc::clone(&self.ctx);
        let socket = Arc::clone(&self.socket);
        let transport = self.transport;
        let work: Request = Box::pin(async move {
            if let Some(reply) = request_ctx.handle(&datagram, peer, transport).await
                && let Err(e) = socket.send_to(&reply, peer).await
            {
                tracing::debug!(%peer, error = %e, "send failed");
            }
            drop(permit);
        });
        // Most requests (Status-Server, salted-SHA logins, duplicates) finish without
        // waiting for anything: run them right here. One that stopped at a slow hash moves
        // to a hash thread whole; any other that must wait (a durable commit, a directory)
        // is spawned, and a spawned task is polled again at once with a real waker.
        if let Some((work, wants_hash_thread)) = poll_offering_handoff(work) {
            let work = if wants_hash_thread {
                match self.ctx.hashes.submit(work) {
                    Ok(()) => return,
                    Err(work) => work,
                }
            } else {
                work
            };
            tokio::spawn(work);
        }
    }
}
