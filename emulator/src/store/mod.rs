//! The connectors and their asynchronous lifecycle.
//!
//! Every pending transition is a deadline on the connector (the connector starts, a pause
//! takes effect, task configs are generated, a task restarts or fails). `Store::settle`
//! applies the deadlines that are due, in time order, then queues the next one; a single
//! scheduler task (`run_scheduler`) wakes at the earliest queued deadline. Each connector
//! keeps its status and info answers serialized, so the bulk `expand` answer is a
//! concatenation whatever the number of connectors.
//!
//! - `connector`: a connector, its tasks, their states; the worker and the timings;
//! - `lifecycle`: the deadlines and the transitions they apply;
//! - `answers`: the status and info answers, serialized as Connect writes them;
//! - `shared`: the store behind its lock, the scheduler, the listings;
//! - `commands`: what the endpoints ask of the store (create, pause, restart, fail...).

mod answers;
mod commands;
mod connector;
mod lifecycle;
mod shared;

pub use commands::RestartPlan;
pub use connector::{Connector, State, Target, Task, Timings, Worker};
pub use shared::{Shared, Store, run_scheduler};
