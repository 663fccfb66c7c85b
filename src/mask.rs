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

/// The values to hide in every text the operator writes: those of secret-like keys of a
/// connector's config, and every value that came from a Kubernetes Secret, whatever its key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Masks(Vec<String>);

impl Masks {
    /// Values shorter than this are not hidden: masking every "on" or "1" in a text would
    /// garble it without protecting anything.
    const MIN_LEN: usize = 3;

    pub fn of_config(config: &BTreeMap<String, String>) -> Self {
        let values = config
            .iter()
            // A `${provider:...}` placeholder is not the secret, only where it lives.
            .filter(|(k, v)| is_secret_key(k) && !v.starts_with("${"))
            .map(|(_, v)| v.clone());
        Self::default().with(values)
    }

    pub fn with(mut self, values: impl IntoIterator<Item = String>) -> Self {
        self.0
            .extend(values.into_iter().filter(|v| v.len() >= Self::MIN_LEN));
        // Longest first, so a secret that contains another is replaced whole.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.0.dedup();
        self
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            out = out.replace(s.as_str(), HIDDEN);
        }
        out
    }
}

/// Replaces in `text` every value of a secret-like key of `config`.
pub fn mask(text: &str, config: &BTreeMap<String, String>) -> String {
    Masks::of_config(config).apply(text)
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

    #[test]
    fn values_from_secrets_are_masked_whatever_their_key() {
        let config = BTreeMap::from([("connection.user".to_string(), "app-user".to_string())]);
        let masks = Masks::of_config(&config).with(["app-user".to_string(), "ab".to_string()]);
        assert_eq!(
            masks.apply("login failed for app-user (ab)"),
            "login failed for [hidden] (ab)"
        );
    }
}
