//! The domain of `between`: the types every other crate speaks, with the rules that hold for
//! them whatever stores or shows them. No IO here, no SQL, no HTTP.

mod domain;
mod id;
mod limits;
mod measure;
pub mod spreadsheet;
pub mod text;

pub use domain::*;
pub use id::*;
pub use limits::*;
pub use measure::*;
pub use text::{QuoteError, Span, SpanError};
