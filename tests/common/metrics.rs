//! The Prometheus text format of a `/metrics` page (the operator's, the apiserver's), parsed
//! in one place: every test reads samples, sums and counts through here.

use std::collections::BTreeMap;

/// One sample line: `name{key="value",...} value` (or `name value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, `""` when the sample has no such label.
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }

    /// Whether the sample has every `key="value"` of `selector` (`kind="KafkaConnector",
    /// result="ok"`; `""` selects every sample).
    pub fn has(&self, selector: &str) -> bool {
        labels(selector)
            .iter()
            .all(|(k, v)| self.labels.get(k) == Some(v))
    }
}

/// One line of a page as a sample; `None` for comments (`# HELP`, `# EOF`...) and whatever
/// does not end in a number.
pub fn sample(line: &str) -> Option<Sample> {
    if line.starts_with('#') {
        return None;
    }
    let (head, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match head.split_once('{') {
        Some((name, rest)) => (name, labels(rest.strip_suffix('}').unwrap_or(rest))),
        None => (head, BTreeMap::new()),
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Every sample of a page.
pub fn samples(text: &str) -> impl Iterator<Item = Sample> + '_ {
    text.lines().filter_map(sample)
}

/// `key="value",...` as a map (values unescaped: `\"`, `\\`, `\n`).
fn labels(mut text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    while let Some((key, rest)) = text.split_once("=\"") {
        let (mut value, mut end) = (String::new(), rest.len());
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key.trim_matches([',', ' ']).to_string(), value);
        text = &rest[end..];
    }
    out
}

/// The sum of the samples of metric `name` that have every label of `selector`.
pub fn sum(text: &str, name: &str, selector: &str) -> f64 {
    samples(text)
        .filter(|s| s.name == name && s.has(selector))
        .map(|s| s.value)
        .sum()
}

/// The samples of metric `name` that have every label of `selector`, summed by the value of
/// their label `by`.
pub fn sum_by(text: &str, name: &str, by: &str, selector: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in samples(text).filter(|s| s.name == name && s.has(selector)) {
        *out.entry(s.label(by).to_string()).or_default() += s.value;
    }
    out
}

/// `after - before` by key, only the keys that grew.
pub fn growth<K: Ord + Clone>(
    after: &BTreeMap<K, f64>,
    before: &BTreeMap<K, f64>,
) -> BTreeMap<K, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d > 0.0)
        .collect()
}
