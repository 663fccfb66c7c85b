//! Test support: reads the YAML fixtures of a pure step (`tests/fixtures/<step>/*.yaml`),
//! and builds a Connect config from pairs.

/// Every fixture of `tests/fixtures/<step>/`, in file-name order, with its path for messages.
pub fn read<T: serde::de::DeserializeOwned>(step: &str) -> Vec<(String, T)> {
    let dir = format!("{}/tests/fixtures/{step}", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "fixtures missing in {dir}");
    paths
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let fixture = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, fixture)
        })
        .collect()
}

/// A Connect config (all values strings) from `(key, value)` pairs.
pub fn config(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
