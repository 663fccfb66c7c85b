//! Keeps secret values out of everything the operator writes: status, Events and logs.
//! Connect echoes config values in some error messages (Strimzi #6911 leaked a database
//! password that way), so every message built from Connect's words goes through `mask`.

use std::collections::BTreeMap;

/// Key fragments whose values are treated as secrets wherever the operator writes text.
const SECRET_KEY_HINTS: [&str; 10] = [
    "password",
    "secret",
    "token",
    "credential",
    "jaas",
    "apikey",
    "api.key",
    "user.info",
    "userinfo",
    "passphrase",
];

pub const HIDDEN: &str = "[hidden]";

pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_HINTS.iter().any(|h| k.contains(h))
        || k.ends_with(".key")
        || k.ends_with("key.password")
}

/// Replaces in `text` every value of a secret-like key of `config`.
pub fn mask(text: &str, config: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    let mut secrets: Vec<&str> = config
        .iter()
        .filter(|(k, v)| is_secret_key(k) && v.len() >= 3 && !v.starts_with("${"))
        .map(|(_, v)| v.as_str())
        .collect();
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets {
        out = out.replace(s, HIDDEN);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_values_in_messages() {
        let config: BTreeMap<String, String> = [
            ("database.password", "hunter22"),
            ("connection.url", "jdbc:x"),
            ("ssl.key.password", "${file:/s:k}"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let msg = "Invalid value hunter22 for configuration database.password; url jdbc:x";
        assert_eq!(
            mask(msg, &config),
            "Invalid value [hidden] for configuration database.password; url jdbc:x"
        );
    }
}
