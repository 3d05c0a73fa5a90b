//! The browser's egress guard: a forward proxy on loopback that every Chromium request goes
//! through (`--proxy-server`, with loopback not bypassed). It resolves each host once,
//! asks the policy about every address, and connects only to an address the policy
//! allowed — so neither a redirect, a subresource, a script's `fetch` nor DNS rebinding
//! reaches an address the service must not touch.
//!
//! HTTPS and WebSockets arrive as `CONNECT host:port` (a tunnel to the checked address);
//! plain HTTP as absolute-form requests, forwarded in origin form with `Connection: close`,
//! so one proxied connection carries one request to one checked host.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Decides whether an address may be contacted: `Err` carries the reason.
pub type Policy = Arc<dyn Fn(IpAddr) -> Result<(), String> + Send + Sync>;

/// A [`Policy`] in a config (shows as `EgressPolicy` in debug output).
#[derive(Clone)]
pub struct EgressPolicy(pub Policy);

impl std::fmt::Debug for EgressPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EgressPolicy")
    }
}

/// Largest request head we read from the browser.
const MAX_HEAD: usize = 32 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A running egress proxy; it stops when dropped.
#[derive(Debug)]
pub struct EgressProxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl EgressProxy {
    /// Starts the proxy on a free loopback port (inside a tokio runtime).
    pub fn start(policy: Policy) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let policy = policy.clone();
                tokio::spawn(async move {
                    let _ = handle(conn, policy).await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Chromium flags that send all traffic through this proxy.
    pub fn chromium_args(&self) -> Vec<String> {
        vec![
            format!("--proxy-server=http://{}", self.addr),
            // Chromium never proxies loopback unless told so: "<-loopback>" removes that
            // implicit bypass rule.
            "--proxy-bypass-list=<-loopback>".into(),
        ]
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(mut client: TcpStream, policy: Policy) -> std::io::Result<()> {
    let (head, rest) = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client)).await {
        Ok(Ok(Some(parts))) => parts,
        _ => return Ok(()),
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, 443) else {
            return refuse(&mut client, 400, "bad CONNECT target").await;
        };
        let mut upstream = match connect_checked(&host, port, &policy).await {
            Ok(s) => s,
            Err(reason) => return refuse(&mut client, 403, &reason).await,
        };
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        if !rest.is_empty() {
            upstream.write_all(&rest).await?;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return Ok(());
    }
    // Absolute-form: GET http://host:port/path HTTP/1.1
    let Ok(url) = url::Url::parse(target) else {
        return refuse(&mut client, 400, "the proxy takes absolute http:// URLs").await;
    };
    if url.scheme() != "http" {
        return refuse(&mut client, 400, "only http:// is proxied in the clear").await;
    }
    let Some(host) = url
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_string())
    else {
        return refuse(&mut client, 400, "no host").await;
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let mut upstream = match connect_checked(&host, port, &policy).await {
        Ok(s) => s,
        Err(reason) => return refuse(&mut client, 403, &reason).await,
    };
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut out = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("proxy-connection")
            || name.eq_ignore_ascii_case("connection")
            || name.eq_ignore_ascii_case("keep-alive")
            || name.eq_ignore_ascii_case("proxy-authorization")
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes()).await?;
    if !rest.is_empty() {
        upstream.write_all(&rest).await?;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

/// Reads up to the end of the request head; returns the head and any bytes after it.
async fn read_head(conn: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

fn split_host_port(target: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some((host.to_string(), port));
    }
    match target.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((target.to_string(), default_port)),
    }
}

/// Resolves `host` once and connects to the first address the policy allows.
async fn connect_checked(host: &str, port: u16, policy: &Policy) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| format!("DNS lookup of {host} timed out"))?
            .map_err(|e| format!("DNS lookup of {host} failed: {e}"))?
            .collect(),
    };
    let mut refusal = None;
    for addr in addrs {
        match policy(addr.ip()) {
            Ok(()) => {
                return tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
                    .await
                    .map_err(|_| format!("connecting to {addr} timed out"))?
                    .map_err(|e| format!("connecting to {addr} failed: {e}"));
            }
            Err(reason) => {
                refusal = Some(format!(
                    "refused: {host} resolves to {} ({reason})",
                    addr.ip()
                ))
            }
        }
    }
    Err(refusal.unwrap_or_else(|| format!("{host} has no address")))
}

async fn refuse(client: &mut TcpStream, status: u16, reason: &str) -> std::io::Result<()> {
    let text = match status {
        403 => "Forbidden",
        _ => "Bad Request",
    };
    let body = format!("gannet egress guard: {reason}\n");
    let head = format!(
        "HTTP/1.1 {status} {text}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await?;
    client.write_all(body.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_targets_split() {
        assert_eq!(
            split_host_port("example.com:443", 1),
            Some(("example.com".into(), 443))
        );
        assert_eq!(split_host_port("[::1]:8443", 1), Some(("::1".into(), 8443)));
        assert_eq!(split_host_port("[::1]", 443), Some(("::1".into(), 443)));
        assert_eq!(split_host_port("host:notaport", 1), None);
    }

    #[tokio::test]
    async fn refused_addresses_get_403_and_no_connection() {
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // A server that counts connections.
        let target = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target_addr = target.local_addr().unwrap();
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = target.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = c
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        let deny: Policy = Arc::new(|ip: IpAddr| {
            if ip.is_loopback() {
                Err("loopback".into())
            } else {
                Ok(())
            }
        });
        let proxy = EgressProxy::start(deny).unwrap();
        for request in [
            format!("GET http://{target_addr}/x HTTP/1.1\r\nHost: {target_addr}\r\n\r\n"),
            format!("CONNECT {target_addr} HTTP/1.1\r\nHost: {target_addr}\r\n\r\n"),
            format!(
                "GET http://localhost:{}/x HTTP/1.1\r\n\r\n",
                target_addr.port()
            ),
        ] {
            let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
            c.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            c.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
            assert!(answer.contains("loopback"), "{answer}");
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);

        // An allowing policy forwards, in origin form.
        let allow: Policy = Arc::new(|_| Ok(()));
        let proxy = EgressProxy::start(allow).unwrap();
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(format!("GET http://{target_addr}/x HTTP/1.1\r\nHost: {target_addr}\r\nProxy-Connection: keep-alive\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
