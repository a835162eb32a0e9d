//! The sandbox toolbox (`daytona-toolbox.json`): sessions, PTY, code run and the code
//! interpreter, written once over a [`ToolboxTransport`] that each backend provides — the API
//! backend reaches the sandbox's toolbox proxy over HTTPS and WebSocket, the local engine
//! reaches the agent inside the sandbox through a `docker exec` stream. Both speak the same
//! routes and bodies, so nothing here knows which backend is in use.

mod transport;

pub use transport::{ToolboxCall, ToolboxIo, ToolboxSocket, ToolboxTransport};
