//! A real SMTP server on loopback (mailin-embedded) that keeps what it receives and can be
//! told to refuse the next messages or a mailbox. Its threads live until the test process
//! exits. The mail crate's delivery tests and the system tier's fleet both use it.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

use mailin_embedded::{Handler, Response, Server};

/// One message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }

    pub fn message_id(&self) -> String {
        self.header("Message-ID").unwrap_or_default()
    }

    /// The whole message with quoted-printable soft breaks and escapes undone, so content
    /// checks do not depend on the transfer encoding lettre picked.
    pub fn text(&self) -> String {
        decode_quoted_printable(&self.raw)
    }
}

pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Default)]
struct Shared {
    received: Vec<Received>,
    /// Answers to give to MAIL FROM instead of accepting, in order. (Not at the end of
    /// DATA: after an error there mailin stays in its DATA state and never answers again.)
    refusals: VecDeque<(u16, String)>,
    /// Recipients refused at RCPT every time.
    bad_mailboxes: Vec<String>,
}

#[derive(Clone, Debug)]
struct SinkHandler {
    shared: Arc<Mutex<Shared>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for SinkHandler {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        match shared.refusals.pop_front() {
            Some((code, text)) => Response::custom(code, text),
            None => mailin_embedded::response::OK,
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if shared.bad_mailboxes.iter().any(|bad| to.contains(bad)) {
            return Response::custom(550, "5.1.1 No such mailbox here".to_owned());
        }
        mailin_embedded::response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.received.push(Received {
            to: std::mem::take(&mut self.to),
            raw: String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned(),
        });
        mailin_embedded::response::OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        mailin_embedded::response::OK
    }
}

/// A running sink on `127.0.0.1:port`.
#[derive(Clone, Debug)]
pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
}

impl SmtpSink {
    /// Starts the server on a free loopback port, serving 4 connections at once.
    pub fn start() -> Self {
        Self::with_threads(4)
    }

    /// Starts the server on a free loopback port. `threads` bounds the connections served at
    /// once; keep it above the delivery workers' total concurrency.
    pub fn with_threads(threads: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let handler = SinkHandler {
            shared: Arc::clone(&shared),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("sink.freshet.test")
            .with_num_threads(threads)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, shared }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next messages are refused (at MAIL FROM) with these answers, in order.
    pub fn refuse_next(&self, answers: &[(u16, &str)]) {
        self.shared().refusals.extend(
            answers
                .iter()
                .map(|(code, text)| (*code, (*text).to_owned())),
        );
    }

    /// Every message to an address containing `mailbox` is refused at RCPT (550).
    pub fn refuse_mailbox(&self, mailbox: &str) {
        self.shared().bad_mailboxes.push(mailbox.to_owned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared().received.clone()
    }

    pub fn received_by(&self, address: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.contains(address)))
            .collect()
    }
}

/// A loopback port where nothing listens: every connection is refused. The port stays
/// bound (without listening) while this lives, so no other test's server can take it.
#[derive(Debug)]
pub struct DeadPort {
    pub port: u16,
    _socket: tokio::net::TcpSocket,
}

impl DeadPort {
    pub fn reserve() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bind a loopback port");
        let port = socket.local_addr().expect("local address").port();
        Self {
            port,
            _socket: socket,
        }
    }
}
