//! RADIUS packet codes (RFC 2865 §3, RFC 2866, RFC 5176, RFC 5997).

/// A packet Code. Values we do not know are kept in `Unknown` so a packet can
/// be logged and counted (RFC 2865 §3 says to silently discard them) without
/// losing what the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    AccessRequest,
    AccessAccept,
    AccessReject,
    AccountingRequest,
    AccountingResponse,
    AccessChallenge,
    StatusServer,
    StatusClient,
    DisconnectRequest,
    DisconnectAck,
    DisconnectNak,
    CoaRequest,
    CoaAck,
    CoaNak,
    Unknown(u8),
}

impl Code {
    pub const fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::AccessRequest,
            2 => Self::AccessAccept,
            3 => Self::AccessReject,
            4 => Self::AccountingRequest,
            5 => Self::AccountingResponse,
            11 => Self::AccessChallenge,
            12 => Self::StatusServer,
            13 => Self::StatusClient,
            40 => Self::DisconnectRequest,
            41 => Self::DisconnectAck,
            42 => Self::DisconnectNak,
            43 => Self::CoaRequest,
            44 => Self::CoaAck,
            45 => Self::CoaNak,
            other => Self::Unknown(other),
        }
    }

    pub const fn as_u8(self) -> u8 {
        match self {
            Self::AccessRequest => 1,
            Self::AccessAccept => 2,
            Self::AccessReject => 3,
            Self::AccountingRequest => 4,
            Self::AccountingResponse => 5,
            Self::AccessChallenge => 11,
            Self::StatusServer => 12,
            Self::StatusClient => 13,
            Self::DisconnectRequest => 40,
            Self::DisconnectAck => 41,
            Self::DisconnectNak => 42,
            Self::CoaRequest => 43,
            Self::CoaAck => 44,
            Self::CoaNak => 45,
            Self::Unknown(other) => other,
        }
    }

    /// Codes a client sends and a server answers. Status-Client (13) is
    /// experimental and never defined as either, so it is neither.
    pub const fn is_request(self) -> bool {
        matches!(
            self,
            Self::AccessRequest
                | Self::AccountingRequest
                | Self::StatusServer
                | Self::DisconnectRequest
                | Self::CoaRequest
        )
    }

    /// Codes a server sends back in answer to a request.
    pub const fn is_response(self) -> bool {
        matches!(
            self,
            Self::AccessAccept
                | Self::AccessReject
                | Self::AccessChallenge
                | Self::AccountingResponse
                | Self::DisconnectAck
                | Self::DisconnectNak
                | Self::CoaAck
                | Self::CoaNak
        )
    }

    /// Requests whose Request Authenticator is an MD5 over the packet rather
    /// than a random nonce (RFC 2866 §3, RFC 5176 §3.5).
    pub const fn has_hashed_request_authenticator(self) -> bool {
        matches!(
            self,
            Self::AccountingRequest | Self::DisconnectRequest | Self::CoaRequest
        )
    }
}

impl From<u8> for Code {
    fn from(value: u8) -> Self {
        Self::from_u8(value)
    }
}

impl From<Code> for u8 {
    fn from(code: Code) -> Self {
        code.as_u8()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        for v in 0..=u8::MAX {
            assert_eq!(Code::from_u8(v).as_u8(), v);
        }
    }

    #[test]
    fn known_codes_are_not_unknown() {
        for v in [1, 2, 3, 4, 5, 11, 12, 13, 40, 41, 42, 43, 44, 45] {
            assert!(!matches!(Code::from_u8(v), Code::Unknown(_)), "{v}");
        }
        assert_eq!(Code::from_u8(6), Code::Unknown(6));
    }

    #[test]
    fn requests_and_responses_are_disjoint() {
        for v in 0..=u8::MAX {
            let c = Code::from_u8(v);
            assert!(!(c.is_request() && c.is_response()), "{c:?}");
        }
        assert!(Code::AccessRequest.is_request());
        assert!(Code::CoaNak.is_response());
        assert!(!Code::Unknown(99).is_request());
    }
}
