//! A real SMTP server on loopback (mailin-embedded) that records every message it accepts:
//! its recipients and its `Message-ID`. Its threads live until the test process exits.

use std::io;
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

use mailin_embedded::{Handler, Response, Server};

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub message_id: String,
}

#[derive(Clone, Debug)]
struct SinkHandler {
    received: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for SinkHandler {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        mailin_embedded::response::OK
    }

    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        mailin_embedded::response::OK
    }

    fn rcpt(&mut self, _to: &str) -> Response {
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
        let raw = String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned();
        let message = Received {
            to: std::mem::take(&mut self.to),
            message_id: header(&raw, "Message-ID").unwrap_or_default(),
        };
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message);
        mailin_embedded::response::OK
    }
}

/// The value of a header of a raw message (first occurrence, unfolded).
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(current) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                current.push_str(line.trim());
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

/// A running sink on `127.0.0.1:port`.
#[derive(Clone, Debug)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Starts the server on a free loopback port. `threads` bounds the connections served at
    /// once; keep it above the delivery workers' total concurrency.
    pub fn start(threads: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler = SinkHandler {
            received: Arc::clone(&received),
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
        Self { port, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
