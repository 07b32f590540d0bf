//! JSON codec: byte-for-byte what Java's legacy `EurekaJacksonCodec` writes, and a lenient
//! reader of what real clients send.
//!
//! Encoding writes compact JSON (no whitespace, no trailing newline) straight into a pre-sized
//! buffer, in the field order of protocol §2.2: port numbers, `countryId` and lease fields as
//! numbers, `@enabled`, timestamps and `isCoordinatingDiscoveryServer` as strings, arrays for
//! `application`/`instance` even with one or no element, and `@class` markers.
//!
//! Decoding accepts every variant of §2.6/§2.7 (see [`decode_instance`]): numbers as numbers or
//! numeric strings, booleans as booleans or strings, both `overriddenStatus` spellings, missing
//! fields (Java defaults), `null` as missing, unknown fields (ignored), single objects where
//! arrays are expected.
//!
//! Peer replication batches (§2.9) are JSON only and live here too.
//!
//! Files: `encode.rs` (the writers), `decode/` (serde visitors reading each document straight
//! from the bytes, no intermediate value tree), `lenient.rs` (the scalar rules the XML decoder
//! shares, and error paths).

mod decode;
mod encode;
mod lenient;

pub use decode::{
    decode_application, decode_applications, decode_instance, decode_replication_list,
    decode_replication_list_response,
};
pub use encode::{
    application_head, applications_head, encode_application, encode_application_entry,
    encode_applications, encode_instance, encode_instance_entry, encode_replication_list,
    encode_replication_list_response, APPLICATIONS_SEPARATOR, APPLICATIONS_TAIL, APPLICATION_TAIL,
};
pub(crate) use encode::{sid_on_wire, write_i64, write_port, write_str, write_u64};
pub(crate) use lenient::{
    clamp_u64, data_center_class, decode_sid, parse_bool_text, parse_data_center_name,
    parse_integer_text, port_number, LeaseBuilder, Path,
};

/// The `@class` marker Java writes for an empty metadata map.
pub(crate) const EMPTY_MAP_CLASS: &str = "java.util.Collections$EmptyMap";
