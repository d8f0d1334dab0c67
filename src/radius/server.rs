//! UDP listeners: bind (in the build phase), then receive loops that hand each datagram to
//! the pipeline under a bound on in-flight work.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{Semaphore, watch};
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

/// Spawns `readers` receive loops per listener into `tasks`. They stop when `shutdown`
/// turns true; requests already taken keep their permits until answered.
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
        let socket = Arc::new(UdpSocket::from_std(l.socket)?);
        for _ in 0..readers.max(1) {
            tasks.spawn(receive_loop(
                Arc::clone(&socket),
                l.transport,
                Arc::clone(&ctx),
                Arc::clone(&in_flight),
                shutdown.clone(),
            ));
        }
    }
    Ok(())
}

async fn receive_loop(
    socket: Arc<UdpSocket>,
    transport: Transport,
    ctx: Arc<RadiusContext>,
    in_flight: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    // One byte more than the largest legal packet, so an oversized one is seen as such.
    let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
    loop {
        let received = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            r = socket.recv_from(&mut buf) => r,
        };
        let (len, peer) = match received {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors and the like are per-datagram; the socket stays usable.
                tracing::debug!(error = %e, "receive error");
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            bump(&ctx.global.overloaded);
            continue;
        };
        let Some(datagram) = buf.get(..len).map(<[u8]>::to_vec) else {
            continue;
        };
        let request_ctx = Arc::clone(&ctx);
        let socket = Arc::clone(&socket);
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
                match ctx.hashes.submit(work) {
                    Ok(()) => continue,
                    Err(work) => work,
                }
            } else {
                work
            };
            tokio::spawn(work);
        }
    }
}
