//! Keeps secret values out of everything the operator writes: status, Events and logs.
//! Connect echoes config values in some error messages (Strimzi #6911 leaked a database
//! password that way), so every message built from Connect's words goes through `Masks`.

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

/// Whole words of a key (between `.`, `_` and `-`) that name a password on their own: too
/// short to look for inside other words (`bypass`, `compass`).
const SECRET_KEY_WORDS: [&str; 4] = ["pass", "pwd", "passwd", "pw"];

pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_HINTS.iter().any(|h| k.contains(h))
        || k.split(['.', '_', '-'])
            .any(|word| SECRET_KEY_WORDS.contains(&word))
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

/// The tokens after `Bearer ` or `Basic ` anywhere in a value, with or without a header
/// name before them (`X-Auth: Bearer abc`, a bare `Bearer abc`).
fn scheme_tokens(value: &str) -> Vec<String> {
    let lower = value.to_ascii_lowercase();
    let mut out = Vec::new();
    for scheme in ["bearer ", "basic "] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(scheme) {
            let start = from + at + scheme.len();
            let token: String = value[start..]
                .trim_start()
                .split([',', ';', ' ', '\n', '"', '\''])
                .next()
                .unwrap_or_default()
                .to_string();
            out.extend((!token.is_empty()).then_some(token));
            from = start;
        }
    }
    out
}

/// Connect's `ConfigException` text names the value and the key it refused. For a key
/// whose value comes from a config provider, Connect resolved it before validating: the
/// value it quotes is the secret itself, which we never saw.
fn hide_quoted_values(text: &str, keys: &[String]) -> String {
    let mut out = text.to_string();
    for key in keys {
        let tail = format!(" for configuration {key}");
        let mut from = 0;
        while let Some(at) = out[from..].find(&tail) {
            let end = from + at;
            let Some(start) = out[..end].rfind("Invalid value ") else {
                break;
            };
            let start = start + "Invalid value ".len();
            out.replace_range(start..end, HIDDEN);
            from = start + HIDDEN.len() + tail.len();
        }
    }
    out
}

/// The longest message the operator shows (status, Events, logs) from an answer it did not
/// write itself, cut only after masking: a secret cut in half would no longer match.
pub const SHOWN_MAX_CHARS: usize = 500;

/// The values to hide in every text the operator writes: those of secret-like keys of a
/// connector's config, and every value that came from a Kubernetes Secret, whatever its key.
/// Also the keys whose value is a config-provider placeholder (see `hide_quoted_values`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Masks(Vec<String>, Vec<String>);

impl Masks {
    /// Values shorter than this are not hidden: masking every "on" or "1" in a text would
    /// garble it without protecting anything.
    const MIN_LEN: usize = 3;

    pub fn of_config(config: &BTreeMap<String, String>) -> Self {
        let mut values = Vec::new();
        let mut placeholders = Vec::new();
        for (k, v) in config {
            // A `${provider:...}` placeholder is not the secret, only where it lives.
            if v.starts_with("${") {
                placeholders.push(k.clone());
                continue;
            }
            if is_secret_key(k) {
                values.push(v.clone());
            }
            if is_connection_key(k) {
                values.extend(url_credentials(v));
            }
            values.extend(authorization_value(v));
            values.extend(scheme_tokens(v));
        }
        let mut masks = Self::default().with(values);
        masks.1 = placeholders;
        masks
    }

    /// The credentials a Connect client sends: the whole `Authorization` value, its token,
    /// and for Basic the decoded `user:password` and the password.
    pub fn of_authorization(header: &str) -> Self {
        use base64::Engine;
        let mut values = vec![header.to_string()];
        values.extend(scheme_tokens(header));
        let basic = header.strip_prefix("Basic ").map(str::trim);
        let decoded = basic
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|d| String::from_utf8(d).ok());
        if let Some(pair) = decoded {
            values.extend(pair.split_once(':').map(|(_, pw)| pw.to_string()));
            values.push(pair);
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
        let mut both = self.with(other.0.iter().cloned());
        both.1.extend(other.1.iter().cloned());
        both.1.sort();
        both.1.dedup();
        both
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            out = out.replace(s.as_str(), HIDDEN);
        }
        hide_quoted_values(&out, &self.1)
    }

    /// Connect's message about one key. A key whose value is a config-provider placeholder
    /// was validated with the resolved secret, which any form of message may quote: only
    /// the `ConfigException` form, whose quoted value `apply` hides, is kept.
    pub fn about_key(&self, key: &str, message: &str) -> String {
        let masked = self.apply(message);
        let quoted = format!("Invalid value {HIDDEN} for configuration {key}");
        if !self.1.iter().any(|k| k == key) || masked.contains(&quoted) {
            return masked;
        }
        format!(
            "{HIDDEN} (Connect's message about {key}, whose value comes from a config provider)"
        )
    }

    /// What may be shown of `text`: masked, then cut to `SHOWN_MAX_CHARS`.
    pub fn shown(&self, text: &str) -> String {
        cut(&self.apply(text))
    }
}

/// `text` cut to `SHOWN_MAX_CHARS`, marked when cut. Only ever applied to masked text.
pub fn cut(text: &str) -> String {
    if text.chars().count() <= SHOWN_MAX_CHARS {
        return text.to_string();
    }
    let kept: String = text.chars().take(SHOWN_MAX_CHARS).collect();
    kept + "..."
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
            Masks::of_config(&config).apply(msg),
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
    fn pwd_pass_and_bare_bearer_values_are_masked() {
        let config: BTreeMap<String, String> = [
            ("db.pwd", "pwd-sentinel"),
            ("smtp_pass", "pass-sentinel"),
            ("connection-passwd", "passwd-sentinel"),
            ("bypass.cache", "not-a-secret"),
            ("http.headers", "X-Api: Bearer bearer-sentinel"),
            ("upstream", "Basic basic-sentinel"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let masks = Masks::of_config(&config);
        let text = config.values().cloned().collect::<Vec<_>>().join(" | ");
        let masked = masks.apply(&text);
        assert!(!masked.contains("sentinel"), "{masked}");
        assert!(masked.contains("not-a-secret"), "{masked}");
    }

    #[test]
    fn a_clusters_own_credentials_are_masked() {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("kco:basic-sentinel");
        let masks = Masks::of_authorization(&format!("Basic {basic}"));
        let echo = format!("proxy says: Authorization: Basic {basic}; user kco:basic-sentinel");
        let masked = masks.apply(&echo);
        assert!(
            !masked.contains("sentinel") && !masked.contains(&basic),
            "{masked}"
        );
        let masks = Masks::of_authorization("Bearer token-sentinel");
        assert!(!masks.apply("got token-sentinel").contains("sentinel"));
    }

    #[test]
    fn values_connect_resolved_from_a_placeholder_are_masked_where_it_quotes_them() {
        let config = BTreeMap::from([
            (
                "batch.size".to_string(),
                "${file:/s/db.properties:pw}".to_string(),
            ),
            ("topic".to_string(), "t".to_string()),
        ]);
        let masks = Masks::of_config(&config);
        let msg = "Invalid value provider-sentinel for configuration batch.size: Not a number of type INT";
        assert_eq!(
            masks.apply(msg),
            "Invalid value [hidden] for configuration batch.size: Not a number of type INT"
        );
        let other = "Invalid value x for configuration topic: bad";
        assert_eq!(
            masks.apply(other),
            other,
            "a plain key's message is untouched"
        );
        assert_eq!(masks.about_key("topic", other), other);
        let free_form = "Could not connect with password provider-sentinel";
        let about = masks.about_key("batch.size", free_form);
        assert!(
            !about.contains("sentinel") && about.contains("batch.size"),
            "{about}"
        );
        let about = masks.about_key("batch.size", msg);
        assert!(about.contains("Not a number"), "the reason stays: {about}");
    }

    #[test]
    fn masking_happens_before_the_cut() {
        let secret = "straddling-sentinel-value";
        let text = format!("{}{secret}", "x".repeat(SHOWN_MAX_CHARS - 10));
        let shown = Masks::default().with([secret.to_string()]).shown(&text);
        assert!(!shown.contains("straddling"), "{shown}");
        assert!(shown.chars().count() <= SHOWN_MAX_CHARS + 3);
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
