//! The `*.toml` files of a rules folder, in name order.

use super::error::{RuleError, RulesError};
use std::path::Path;

pub(super) fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RulesError> {
    let fail = |message: String| {
        RulesError(vec![RuleError {
            file: dir.display().to_string(),
            rule: None,
            field: None,
            message,
        }])
    };
    let entries = std::fs::read_dir(dir).map_err(|e| fail(format!("cannot read folder: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| fail(e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        files.push((name, text));
    }
    files.sort();
    if files.is_empty() {
        return Err(fail("no *.toml rules files".into()));
    }
    Ok(files)
}
