//! Keeps secret values out of everything the operator writes: status, Events and logs.
//! Connect echoes config values in some error messages (Strimzi #6911 leaked a database
//! password that way), so every message built from Connect's words goes through `mask`.

use std::collections::BTreeMap;

/// Key fragments whose values are treated as secrets wherever the operator writes text.
const SECRET_KEY_HINTS: [&str; 14] = [
    "password",
    "secret",
    "token",
    "credential",
    "jaas",
    "apikey",
    "api.key",
    "api_key",
    "keyfile",
    "private_key",
    "private.key",
    "user.info",
    "userinfo",
    "passphrase",
];

pub const HIDDEN: &str = "[hidden]";

pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_HINTS.iter().any(|h| k.contains(h))
        || k.ends_with(".key")
        || k.ends_with("_key")
        || k.ends_with("key.password")
}

/// Keys whose values may carry credentials inside a URL or a connection string
/// (`jdbc:postgresql://user:pw@host/db`, `mongodb://user:pw@host`).
fn is_connection_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("connection.url")
        || k.ends_with("connection.uri")
        || k.ends_with("connection.string")
        || k.ends_with(".url")
        || k.ends_with(".uri")
}

/// The `user:password` of a URL's user-info (`scheme://user:password@host`), if any.
fn url_credentials(value: &str) -> Option<String> {
    let rest = &value[value.find("://")? + 3..];
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    Some(userinfo.to_string())
}

/// Header values that carry credentials (`Authorization: Basic ...`) in a header config.
fn authorization_value(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let at = lower.find("authorization")?;
    let rest = value[at + "authorization".len()..].trim_start_matches([':', ' ', '=']);
    let token: String = rest.split([',', ';', '\n']).next()?.trim().to_string();
    (!token.is_empty()).then_some(token)
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
        let mut values = Vec::new();
        for (k, v) in config {
            // A `${provider:...}` placeholder is not the secret, only where it lives.
            if v.starts_with("${") {
                continue;
            }
            if is_secret_key(k) {
                values.push(v.clone());
            }
            if is_connection_key(k) {
                values.extend(url_credentials(v));
            }
            values.extend(authorization_value(v));
        }
        Self::default().with(values)
    }

    pub fn with(mut self, values: impl IntoIterator<Item = String>) -> Self {
        // Connect trims values before it quotes them, and a message may hold one line of a
        // multi-line value: hide those forms too.
        let forms = values.into_iter().flat_map(|v| {
            let mut forms: Vec<String> = v.lines().map(|l| l.trim().to_string()).collect();
            forms.push(v.trim().to_string());
            forms.push(v);
            forms
        });
        self.0.extend(forms.filter(|v| v.len() >= Self::MIN_LEN));
        // Longest first, so a secret that contains another is replaced whole.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.0.dedup();
        self
    }

    /// Both sets: e.g. the desired config's secrets and the live config's (an error after a
    /// password change may echo the old one).
    pub fn and(self, other: &Masks) -> Self {
        self.with(other.0.iter().cloned())
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

    #[test]
    fn credentials_in_urls_keys_and_headers_are_masked() {
        let config: BTreeMap<String, String> = [
            (
                "connection.url",
                "jdbc:postgresql://app:url-sentinel@db:5432/orders",
            ),
            (
                "mongodb.connection.string",
                "mongodb://svc:mongo-sentinel@m1,m2/db",
            ),
            ("gcs.credentials_key", "key-sentinel"),
            ("sftp.private_key", "pk-sentinel"),
            ("aws.api_key", "api-sentinel"),
            ("ssl.keyfile", "file-sentinel"),
            (
                "headers",
                "Authorization: Bearer header-sentinel, X-Other: 1",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let masks = Masks::of_config(&config);
        let text = config.values().cloned().collect::<Vec<_>>().join(" | ");
        let masked = masks.apply(&text);
        for sentinel in [
            "url-sentinel",
            "mongo-sentinel",
            "key-sentinel",
            "pk-sentinel",
            "api-sentinel",
            "file-sentinel",
            "header-sentinel",
        ] {
            assert!(!masked.contains(sentinel), "{sentinel} in {masked}");
        }
        assert!(
            masked.contains("@db:5432/orders"),
            "the host stays readable: {masked}"
        );
    }

    #[test]
    fn trimmed_and_partial_lines_of_a_secret_are_masked() {
        let masks =
            Masks::default().with(["first-line-sentinel\nsecond-line-sentinel\n".to_string()]);
        let text = "Invalid value first-line-sentinel; also second-line-sentinel";
        let masked = masks.apply(text);
        assert!(!masked.contains("sentinel"), "{masked}");
    }
}
