//! Errors that name where the problem is: the file and line of a gazetteer or rule, or the input
//! source and line of a document.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while loading resources or reading input.
#[derive(Debug)]
pub enum Error {
    /// A gazetteer line that cannot be used.
    Gazetteer {
        file: String,
        line: usize,
        message: String,
    },
    /// A rule line that cannot be compiled.
    Rule {
        file: String,
        line: usize,
        message: String,
    },
    /// A file or folder that cannot be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn gazetteer(
        file: impl Into<String>,
        line: usize,
        message: impl Into<String>,
    ) -> Error {
        Error::Gazetteer {
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Gazetteer {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: gazetteer: {message}"),
            Error::Rule {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: rule: {message}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
