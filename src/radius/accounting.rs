//! Accounting-Request: stored, durably, before the Accounting-Response that lets the NAS
//! forget it.

use super::clients::Client;
use super::context::RadiusContext;
use super::counters::{DropReason, bump};
use super::proto::{Code, Packet, PacketView, attr};
use crate::model::AcctRecord;
use crate::store::WriteOp;

impl RadiusContext {
    pub(super) async fn accounting_request(
        &self,
        view: &PacketView<'_>,
        client: &Client,
    ) -> Option<Packet> {
        bump(&client.counters.accounting_requests);
        let text = |t| view.attr(t).and_then(attr::as_string).map(str::to_string);
        let int = |t| view.attr(t).and_then(attr::as_u32);
        let record = AcctRecord {
            received_at: self.clock.now_unix(),
            client: client.name.clone(),
            status_type: int(attr::ACCT_STATUS_TYPE),
            session_id: text(attr::ACCT_SESSION_ID),
            user_name: text(attr::USER_NAME),
            session_time: int(attr::ACCT_SESSION_TIME),
            input_octets: int(attr::ACCT_INPUT_OCTETS),
            output_octets: int(attr::ACCT_OUTPUT_OCTETS),
            attributes: super::display::attributes_text(view),
        };
        // Persist, then reply: the Accounting-Response is the NAS's licence to forget.
        if let Err(e) = self.store.write(vec![WriteOp::Accounting(record)]).await {
            tracing::error!(client = %client.name, error = %e, "accounting not stored; no response sent");
            client.counters.dropped(DropReason::StoreUnavailable);
            return None;
        }
        bump(&client.counters.accounting_responses);
        Some(Packet::new(Code::AccountingResponse, view.identifier()))
    }
}
