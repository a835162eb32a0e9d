//! `AbortSignal` support: index.js makes a `Cancellation` per signalled call, cancels it when
//! the signal aborts, and calls the method on the object's `_abortable(cancellation)` twin,
//! whose client carries the token (`daytona_client::Daytona::with_cancellation`).

use daytona_client::CancellationToken;
use napi_derive::napi;

#[napi(js_name = "_Cancellation")]
pub struct Cancellation {
    token: CancellationToken,
}

#[napi]
impl Cancellation {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Cancellation { token: CancellationToken::new() }
    }

    /// Stops every operation started with this cancellation (idempotent).
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

impl Cancellation {
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}
