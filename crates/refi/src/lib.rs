//! REFI-QDA exchange: QDA-XML 1.0 projects (`.qdpx` zip with `project.qde` and `sources/`,
//! or a bare `.qde`) and codebooks (`.qdc`). Reads leniently what real tools write (NVivo,
//! ATLAS.ti, MAXQDA, QualCoder, Taguette, qc) and writes strictly what the XSDs accept.
//! Knows nothing of a study: `between-study` maps its objects to and from [`Project`].
//!
//! - [`read_project`] / [`read_codebook`]: lenient, with a [`Report`] of what was dropped,
//!   warned about, and not placed; unsafe input is a [`RefiError`]. [`read_project_into`]
//!   streams a project (from a file) into a [`ProjectSink`] a source at a time.
//! - [`write_project`] / [`write_qdpx`] / [`write_codebook`]: strict, schema-valid output.

mod container;
mod error;
mod model;
mod positions;
mod read;
mod write;
mod xml;

#[cfg(test)]
mod tests;

pub use container::Limits;
pub use error::RefiError;
pub use model::*;
pub use read::{
    ProjectInput, ProjectSink, ReadOptions, ReadSource, read_codebook, read_project,
    read_project_into,
};
pub use write::{
    SourceFeed, SourceItem, try_write_codebook, write_codebook, write_project, write_qdpx,
    write_qdpx_to,
};
pub use xml::MAX_XML_DEPTH;
