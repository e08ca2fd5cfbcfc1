//! Decoders: bytes of one format in, Arrow record batches out.

pub mod csv;
pub mod values;
