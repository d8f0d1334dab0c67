//! The real dispatcher in-process, on a real SQLite store in a temporary directory: for
//! tests that race requests against each other or need many of them quickly. Requests
//! come from uid 0 (break-glass root), acting as an administrator with `as_`.

use std::path::Path;
use std::sync::Arc;

use gatehouse::admin::context::AdminContext;
use gatehouse::admin::dispatch::dispatch;
use gatehouse::admin::handlers::Progress;
use gatehouse::admin::proto::{ErrorBody, Request, Response};
use gatehouse::config::Config;
use gatehouse::store::Store;
use serde_json::Value;

pub struct Admin {
    pub ctx: Arc<AdminContext>,
    pub store: Store,
    pub dir: tempfile::TempDir,
}

impl Admin {
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// With more configuration sections appended (e.g. `[admin]` settings).
    pub fn start_with(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[appliance]\nname = \"t\"\nsite = \"HQ\"\nstate_dir = \"{}\"\n{extra}\n",
            dir.path().display()
        );
        let config =
            Config::from_toml_with_env(Path::new("t.toml"), &text, std::iter::empty()).unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let (_radius, ctx) = gatehouse::service::run::contexts(
            &config,
            Path::new("t.toml"),
            store.clone(),
            vec![],
            gatehouse::time::system(),
        )
        .unwrap();
        Self { ctx, store, dir }
    }

    /// A request as root, or as `as_` when given.
    pub async fn call(&self, as_: Option<&str>, op: &str, args: Value) -> Response {
        let req = Request {
            id: 1,
            op: op.into(),
            args,
            act_as: as_.map(String::from),
        };
        dispatch(&self.ctx, 0, req, Progress::default()).await
    }

    /// The error of a request that must fail.
    pub async fn err(&self, as_: Option<&str>, op: &str, args: Value) -> ErrorBody {
        let r = self.call(as_, op, args).await;
        r.error
            .unwrap_or_else(|| panic!("{op} succeeded: {:?}", r.result))
    }

    pub async fn ok(&self, op: &str, args: Value) -> Value {
        let r = self.call(None, op, args).await;
        assert!(r.ok, "{op}: {r:?}");
        r.result.unwrap_or(Value::Null)
    }
}
