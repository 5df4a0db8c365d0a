//! Who is asking and which request this is: set by the middleware, read by the faces and
//! the log line.

/// The authenticated client's name (never its key); goes to logs, metrics and the audit trail.
#[derive(Debug, Clone)]
pub struct Client(pub String);

/// The request id for logs and the response: the caller's if it is a safe token, else a new one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
