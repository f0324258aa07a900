//! The SMTP sink the delivery tests send to: the test kit's, under the names these tests use.

pub use freshet_testkit::smtp::*;
