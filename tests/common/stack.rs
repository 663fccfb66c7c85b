//! The local stack's controls (`hack/stack.sh`, as `KCO_STACK_CTL` names it) and its Connect
//! workers' addresses.

use super::env;

/// `hack/stack.sh ARGS` on the stack of `KCO_STACK_CTL` / `KCO_STACK_DIR` (it waits until
/// what it starts serves).
pub async fn stack_ctl(args: &[&str]) {
    let status = tokio::process::Command::new(env("KCO_STACK_CTL"))
        .args(args)
        .status()
        .await
        .expect("run hack/stack.sh");
    assert!(status.success(), "hack/stack.sh {args:?} failed");
}

/// The REST URL of worker `n` (1 or 2) of the stack's Connect group.
pub fn worker_url(n: u8) -> String {
    env(if n == 1 {
        "CONNECT_URL"
    } else {
        "CONNECT_URL_2"
    })
}
