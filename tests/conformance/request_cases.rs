//! Cases: validation answers, refused creates, unknown connectors, delete.

use super::*;

pub(crate) async fn validate_answers_200_with_errors_or_without(t: &Target) {
    // The recorded answer of hack/record-answers.sh: compared value by value, not only shape.
    let errors = validate(
        t,
        FILE_SOURCE,
        json!({"connector.class": FILE_SOURCE, "name": "x", "tasks.max": "one"}),
    )
    .await;
    assert_eq!(errors.code, 200, "{}: {errors:?}", t.name);
    expect_validation(t, "validate-filestream-errors", &errors);
    assert_eq!(errors.body["error_count"], 3);

    let ok = validate(
        t,
        VERIFIABLE_SOURCE,
        json!({"connector.class": VERIFIABLE_SOURCE, "name": "x", "tasks.max": "2",
            "topic": TOPIC, "throughput": "10"}),
    )
    .await;
    assert_eq!(ok.code, 200, "{}: {ok:?}", t.name);
    expect_validation(t, "validate-conformance-ok", &ok);
    assert_eq!(ok.body["error_count"], 0);

    let sink = validate(
        t,
        FILE_SINK,
        json!({"connector.class": FILE_SINK, "name": "x"}),
    )
    .await;
    expect_validation(t, "validate-conformance-sink-no-topics", &sink);
    assert_eq!(
        per_key_errors(&sink.body).get("topics"),
        Some(&vec![
            "Must configure one of topics or topics.regex".to_string()
        ])
    );
    validate_refusals(t).await;
}

/// `PUT /connector-plugins/{class}/config/validate` with `config`.
async fn validate(t: &Target, class: &str, config: Value) -> Answer {
    let path = format!("/connector-plugins/{class}/config/validate");
    t.settled(Method::PUT, &path, Some(config)).await
}

/// Validations Connect cannot run: an unknown class, a class other than the path's, none.
async fn validate_refusals(t: &Target) {
    let unknown = validate(
        t,
        "com.example.NoSuchConnector",
        json!({"connector.class": "com.example.NoSuchConnector", "name": "x"}),
    )
    .await;
    assert_eq!(unknown.code, 500, "{}: {unknown:?}", t.name);
    assert!(
        unknown.message().contains(
            "Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector"
        ),
        "{}: {unknown:?}",
        t.name
    );
    expect_body(t, "error-500-unknown-class", &unknown);

    let mismatch = validate(t, MOCK_SOURCE, json!({"connector.class": FILE_SINK})).await;
    expect_error(
        t,
        &mismatch,
        400,
        &format!("Included connector type {FILE_SINK} does not match request type {MOCK_SOURCE}"),
    );
    let no_class = validate(t, MOCK_SOURCE, json!({})).await;
    expect_error(
        t,
        &no_class,
        500,
        "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {} contains no connector type",
    );
}

/// Each key's errors, from a validate answer.
pub(crate) fn per_key_errors(answer: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    answer["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let errors = c["value"]["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().map(String::from))
                .collect();
            (
                c["value"]["name"].as_str().unwrap_or_default().to_string(),
                errors,
            )
        })
        .collect()
}

/// A validate answer against a recorded one: the same shape, class, groups, keys in the
/// same order, error count and errors per key (validation is deterministic).
pub(crate) fn expect_validation(t: &Target, fixture_name: &str, answer: &Answer) {
    expect_body(t, fixture_name, answer);
    let actual = &answer.body;
    if recording(t, fixture_name) {
        return;
    }
    let expected = fixture(fixture_name);
    for key in ["name", "error_count", "groups"] {
        assert_eq!(
            actual[key], expected[key],
            "{}: {fixture_name}: {key}",
            t.name
        );
    }
    let names = |v: &Value| -> Vec<String> {
        v["configs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                c["definition"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        names(actual),
        names(&expected),
        "{}: {fixture_name}: keys",
        t.name
    );
    assert_eq!(
        per_key_errors(actual),
        per_key_errors(&expected),
        "{}: {fixture_name}: errors",
        t.name
    );
}

pub(crate) async fn create_refusals(t: &Target) {
    let name = t.connector("refused");
    refused_configs(t, &name).await;
    refused_bodies(t, &name).await;

    // Nothing was created.
    let a = t.get(&format!("/connectors/{name}")).await;
    expect_error(t, &a, 404, &format!("Connector {name} not found"));
}

/// Creates of `name` refused for their config: no class, an unknown class, a missing
/// required key, an invalid value, another name.
async fn refused_configs(t: &Target, name: &str) {
    let post = |body: Value| t.settled(Method::POST, "/connectors", Some(body));

    let a = post(json!({"name": name, "config": {"tasks.max": "1"}})).await;
    assert_eq!(a.code, 400, "{}: {a:?}", t.name);
    assert!(
        a.message().starts_with("Connector config {")
            && a.message().ends_with("} contains no connector type"),
        "{}: {a:?}",
        t.name
    );

    // The real worker prefixes it with `org.apache.kafka.connect.errors.ConnectException: `
    // when the create was forwarded to the leader.
    let a = post(json!({"name": name, "config": {"connector.class": "com.example.Nope"}})).await;
    assert_eq!(
        (a.code, &a.body["error_code"]),
        (400, &json!(400)),
        "{}: {a:?}",
        t.name
    );
    assert!(
        a.message().contains(
            "Failed to find any class that implements Connector and which name matches com.example.Nope, available connectors are: PluginDesc{"
        ),
        "{}: {a:?}",
        t.name
    );

    let a = post(json!({"name": name, "config": {"connector.class": FILE_SOURCE}})).await;
    expect_error(
        t,
        &a,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"topic\" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    );

    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "tasks.max": "0"}}))
            .await;
    expect_error(
        t,
        &a,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value 0 for configuration tasks.max: Value must be at least 1\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    );

    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "name": "other"}}))
            .await;
    expect_error(
        t,
        &a,
        400,
        &format!(
            "Connector name configuration (other) doesn't match connector name in the URL ({name})"
        ),
    );
}

/// Creates of `name` refused for their body: an unknown field, a value that is not a
/// string, no config, no JSON.
async fn refused_bodies(t: &Target, name: &str) {
    let post = |body: Value| t.settled(Method::POST, "/connectors", Some(body));
    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE}, "bogus": 1})).await;
    expect_error_starting(
        t,
        &a,
        500,
        "Unrecognized field \"bogus\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: \"config\", \"name\", \"initial_state\")",
    );

    let a = post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "x": {"a": 1}}}))
        .await;
    expect_error_starting(
        t,
        &a,
        500,
        "Cannot deserialize value of type `java.lang.String` from Object value",
    );

    let a = post(json!({"name": name})).await;
    expect_error(
        t,
        &a,
        500,
        "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
    );

    let malformed = t
        .http
        .post(format!("{}/connectors", t.url))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 500, "{}", t.name);
}

pub(crate) async fn unknown_connector_answers(t: &Target) {
    let c = format!("conf-absent-{}", uuid_suffix());
    let not_found = format!("Connector {c} not found");
    let unknown = format!("Unknown connector {c}");
    let unknown_colon = format!("Unknown connector: {c}");
    let checks: Vec<(Method, &str, String)> = vec![
        (Method::GET, "", not_found.clone()),
        (Method::GET, "/config", not_found.clone()),
        (
            Method::GET,
            "/status",
            format!("No status found for connector {c}"),
        ),
        (Method::GET, "/tasks", not_found.clone()),
        (
            Method::GET,
            "/tasks/0/status",
            format!("No status found for task {c}-0"),
        ),
        (Method::PUT, "/pause", unknown.clone()),
        (Method::PUT, "/resume", unknown.clone()),
        (Method::PUT, "/stop", unknown.clone()),
        (Method::POST, "/restart", unknown_colon.clone()),
        (
            Method::POST,
            "/restart?includeTasks=true&onlyFailed=true",
            unknown_colon.clone(),
        ),
        (Method::POST, "/tasks/0/restart", unknown_colon.clone()),
        (Method::DELETE, "", not_found.clone()),
    ];
    for (method, suffix, message) in checks {
        let path = format!("/connectors/{c}{suffix}");
        let a = t.settled(method.clone(), &path, None).await;
        assert_eq!(a.code, 404, "{}: {method} {path}: {a:?}", t.name);
        expect_error(t, &a, 404, &message);
        expect_body(t, "error-404-not-found", &a);
    }
    // Topics are not checked for existence.
    let topics = t.get(&format!("/connectors/{c}/topics")).await;
    assert_eq!(topics.code, 200);
    assert_eq!(topics.body, json!({ &c: {"topics": []} }));
}

pub(crate) async fn delete_answers_204_then_404(t: &Target) {
    let name = t.connector("delete");
    t.create_ok(&name, mock(1)).await;
    t.until(&name, "RUNNING", 1, "RUNNING").await;
    let a = t
        .settled(Method::DELETE, &format!("/connectors/{name}"), None)
        .await;
    assert_eq!((a.code, &a.body), (204, &Value::Null), "{}: {a:?}", t.name);
    let a = t.get(&format!("/connectors/{name}")).await;
    expect_error(t, &a, 404, &format!("Connector {name} not found"));
    eventually("the status gone", WAIT, || async {
        let a = t.get(&format!("/connectors/{name}/status")).await;
        (a.code == 404).then_some(())
    })
    .await;
    let list = t.get("/connectors").await;
    assert!(!list.body.as_array().unwrap().contains(&json!(name)));
    let again = t
        .settled(Method::DELETE, &format!("/connectors/{name}"), None)
        .await;
    expect_error(t, &again, 404, &format!("Connector {name} not found"));
}
