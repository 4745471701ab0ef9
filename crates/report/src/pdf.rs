//! A printable PDF of the HTML report, printed by headless Chromium at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ReportError;

/// Names tried on `PATH` when `BETWEEN_CHROMIUM` is not set.
const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// The browser that prints: `BETWEEN_CHROMIUM`, else the first of [`CHROMIUM_NAMES`] on `PATH`.
pub fn find_chromium() -> Result<PathBuf, ReportError> {
    if let Some(path) = std::env::var_os("BETWEEN_CHROMIUM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(ReportError::Pdf(format!(
                "BETWEEN_CHROMIUM is {}, which is not a file",
                path.display()
            )))
        };
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    CHROMIUM_NAMES
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ReportError::Pdf(format!(
                "no Chromium to print the PDF with: install chromium (apt-get install chromium), \
                 or set BETWEEN_CHROMIUM to the browser's path (looked for {} on PATH)",
                CHROMIUM_NAMES.join(", ")
            ))
        })
}

/// Prints `html` (a file) to `pdf` with headless Chromium; the page makes no network requests
/// (the report has no external assets), and the browser is kept off the network.
pub fn print(html: &Path, pdf: &Path) -> Result<(), ReportError> {
    let chromium = find_chromium()?;
    let html = std::path::absolute(html).map_err(|source| ReportError::Io {
        path: html.display().to_string(),
        source,
    })?;
    // A fresh, empty profile, removed when dropped.
    let profile = tempfile::tempdir().map_err(|source| ReportError::Io {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let output = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|source| ReportError::Io {
            path: chromium.display().to_string(),
            source,
        });
    let output = output?;
    if !output.status.success() || !pdf.is_file() {
        return Err(ReportError::Pdf(format!(
            "{} could not print the report ({}): {}",
            chromium.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// `html` printed to PDF, through a file in a temporary folder (for a server, which has no
/// output folder).
pub fn print_html(html: &str) -> Result<Vec<u8>, ReportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ReportError::Io { path, source }
    };
    let dir = tempfile::tempdir().map_err(io(&std::env::temp_dir()))?;
    let (page, pdf) = (
        dir.path().join("report.html"),
        dir.path().join("report.pdf"),
    );
    std::fs::write(&page, html).map_err(io(&page))?;
    print(&page, &pdf)?;
    std::fs::read(&pdf).map_err(io(&pdf))
}
