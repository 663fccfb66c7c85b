//! The stack's PostgreSQL (`POSTGRES_*` in `target/stack/env`), through the `psql` binary of
//! the machine's packages, and the Debezium specs the tests apply against it.

use std::time::Duration;

use serde_json::{Value, json};

use super::{env, eventually};

pub const DEBEZIUM_POSTGRES: &str = "io.debezium.connector.postgresql.PostgresConnector";
pub const DEBEZIUM_JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";

/// The stack's database as its owner, `POSTGRES_USER`.
#[derive(Clone)]
pub struct Pg {
    psql: String,
    pub host: String,
    pub port: String,
    pub db: String,
    pub user: String,
    pub password: String,
}

impl Pg {
    pub fn from_env() -> Self {
        Pg {
            psql: format!("{}/psql", env("POSTGRES_BIN")),
            host: env("POSTGRES_HOST"),
            port: env("POSTGRES_PORT"),
            db: env("POSTGRES_DB"),
            user: env("POSTGRES_USER"),
            password: env("POSTGRES_PASSWORD"),
        }
    }

    fn command(&self, sql: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.psql);
        cmd.args(["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h", &self.host, "-p", &self.port, "-U", &self.user, "-d", &self.db,
            ])
            .args(["-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10");
        cmd
    }

    /// Runs `sql`; `Err` with psql's message when it fails (e.g. a table not created yet).
    pub async fn try_query(&self, sql: &str) -> Result<String, String> {
        let out = tokio::process::Command::from(self.command(sql))
            .output()
            .await
            .map_err(|e| format!("running {}: {e}", self.psql))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Runs `sql` and returns its unaligned output; panics when psql fails.
    pub async fn query(&self, sql: &str) -> String {
        self.try_query(sql)
            .await
            .unwrap_or_else(|e| panic!("psql {sql:?} failed: {e}"))
    }

    /// The JDBC URL of the database, for the JDBC sink.
    pub fn jdbc_url(&self) -> String {
        format!("jdbc:postgresql://{}:{}/{}", self.host, self.port, self.db)
    }
}

/// What one test creates in PostgreSQL: named after the test's namespace so tests run in
/// parallel. `drop_all` removes it once the connectors are gone; if a test panics before, the
/// `Drop` makes a best effort (a slot still in use stays until `hack/stack.sh down`).
pub struct PgObjects {
    pub pg: Pg,
    /// `ns` with `-` turned to `_`: a valid PostgreSQL identifier and topic prefix.
    pub ident: String,
    pub source_table: String,
    pub target_table: String,
    pub slot: String,
    pub publication: String,
}

impl PgObjects {
    /// Names for the namespace `ns` and the source table created, with `id` as its key.
    pub async fn create(ns: &str) -> Self {
        let ident = ns.replace('-', "_");
        let objs = PgObjects {
            pg: Pg::from_env(),
            source_table: format!("{ident}_src"),
            target_table: format!("{ident}_dst"),
            slot: format!("{ident}_slot"),
            publication: format!("{ident}_pub"),
            ident,
        };
        objs.pg
            .query(&format!(
                "CREATE TABLE {} (id integer PRIMARY KEY, name text NOT NULL)",
                objs.source_table
            ))
            .await;
        objs
    }

    /// The Kafka topic Debezium writes the source table's changes to.
    pub fn topic(&self) -> String {
        format!("{}.public.{}", self.ident, self.source_table)
    }

    fn drop_sql(&self) -> String {
        format!(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
               WHERE slot_name = '{slot}' AND NOT active; \
             DROP PUBLICATION IF EXISTS {publication}; \
             DROP TABLE IF EXISTS {src}, {dst};",
            slot = self.slot,
            publication = self.publication,
            src = self.source_table,
            dst = self.target_table
        )
    }

    /// Drops the slot once no connector reads it any more (so PostgreSQL keeps no WAL for it),
    /// then the publication and the tables.
    pub async fn drop_all(&self) {
        eventually(
            &format!("replication slot {} released and dropped", self.slot),
            Duration::from_secs(60),
            || async {
                self.pg.try_query(&self.drop_sql()).await.ok()?;
                let left = self
                    .pg
                    .query(&format!(
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}'",
                        self.slot
                    ))
                    .await;
                (left == "0").then_some(())
            },
        )
        .await;
    }

    /// A KafkaConnector spec for the Debezium PostgreSQL source of the source table, with
    /// `password` as `database.password` (a value or a `${file:...}` placeholder).
    pub fn source_spec(&self, connector: &str, password: &str) -> Value {
        let pg = &self.pg;
        json!({"connectorName": connector, "class": DEBEZIUM_POSTGRES, "tasksMax": 1,
        "config": with_schemas(json!({
            "plugin.name": "pgoutput",
            "database.hostname": pg.host, "database.port": pg.port,
            "database.user": pg.user, "database.password": password,
            "database.dbname": pg.db,
            "topic.prefix": self.ident,
            "slot.name": self.slot,
            "publication.name": self.publication,
            "publication.autocreate.mode": "filtered",
            "table.include.list": format!("public.{}", self.source_table),
            "snapshot.mode": "initial",
        }))})
    }

    /// A KafkaConnector spec for the Debezium JDBC sink writing the source's topic into the
    /// target table (created by the sink; Debezium change events are read natively).
    pub fn sink_spec(&self, connector: &str, password: &str) -> Value {
        let pg = &self.pg;
        json!({"connectorName": connector, "class": DEBEZIUM_JDBC_SINK, "tasksMax": 1,
        "config": with_schemas(json!({
            "topics": self.topic(),
            "connection.url": pg.jdbc_url(),
            "connection.username": pg.user, "connection.password": password,
            "insert.mode": "upsert",
            "primary.key.mode": "record_key",
            "delete.enabled": "true",
            "schema.evolution": "basic",
            "collection.name.format": self.target_table,
        }))})
    }
}

/// The stack's workers convert JSON without schemas; the JDBC sink needs them to create tables.
fn with_schemas(mut config: Value) -> Value {
    let fields = config.as_object_mut().unwrap();
    for side in ["key", "value"] {
        fields.insert(
            format!("{side}.converter"),
            json!("org.apache.kafka.connect.json.JsonConverter"),
        );
        fields.insert(format!("{side}.converter.schemas.enable"), json!("true"));
    }
    config
}

impl Drop for PgObjects {
    fn drop(&mut self) {
        let _ = self.pg.command(&self.drop_sql()).output();
    }
}
