//! Who may call what: users and roles from the configuration, HTTP Basic credentials checked
//! against plain or hashed (bcrypt, argon2) passwords.
//!
//! Hashes cost tens of milliseconds by design, and a client sends the same `Authorization`
//! header with every renewal, so a header that verified once is remembered by its SHA-256
//! (never the header itself): a renewal then costs one hash and one map lookup (plain
//! passwords are remembered too: a lookup is cheaper than decoding the header). Slow checks
//! run off the async workers, a few at a time, so wrong passwords cannot stall the server.
//! The HTTP side (which route needs which role, the 401/403 answers) is in
//! [`crate::http::auth`].

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine;
use parking_lot::RwLock;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// How many verified `Authorization` headers are remembered; when full, the cache starts over
/// (a bound, not an LRU: real deployments have a handful of users).
pub const VERIFIED_CACHE_CAPACITY: usize = 4096;
/// How many slow password checks run at once.
const SLOW_CHECKS_AT_ONCE: usize = 2;

/// A role a user holds. `write` and `peer` include `read`; `admin` includes everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Registry reads: `GET` of apps, delta, app, instance, vips, watch, status, the console.
    Read,
    /// `read`, and register, renew, cancel and metadata of the user's own instances.
    Write,
    /// Everything: status overrides, drain, console actions, any user's instances.
    Admin,
    /// `read`, and replication: the batch endpoint and calls marked as replicated.
    Peer,
}

/// What a `roles` setting must be, for the messages that refuse one.
pub const ROLES_EXPECTED: &str = "a comma-separated list of roles: read, write, admin, peer";

impl Role {
    /// The role named `name` (any case).
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            "peer" => Some(Role::Peer),
            _ => None,
        }
    }

    /// The role's name in the configuration and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
            Role::Peer => "peer",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Parses a comma-separated role list; the error names what is accepted.
pub fn parse_roles(raw: &str) -> Result<Vec<Role>, &'static str> {
    let roles: Vec<Role> = raw
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).ok_or(ROLES_EXPECTED))
        .collect::<Result<_, _>>()?;
    if roles.is_empty() {
        return Err(ROLES_EXPECTED);
    }
    Ok(roles)
}

/// The roles a user effectively holds, implications applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(u8);

impl Roles {
    /// The effective set of `granted` roles: write and peer imply read, admin implies all.
    pub fn of(granted: &[Role]) -> Self {
        let mut bits = 0;
        for role in granted {
            bits |= role.bit();
            match role {
                Role::Write | Role::Peer => bits |= Role::Read.bit(),
                Role::Admin => {
                    bits |= Role::Read.bit() | Role::Write.bit() | Role::Peer.bit();
                }
                Role::Read => {}
            }
        }
        Roles(bits)
    }

    /// Whether `role` is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }
}

/// A configured password: plain text, or a bcrypt or argon2 hash (Spring's
/// `DelegatingPasswordEncoder` forms `{noop}`, `{bcrypt}`, `{argon2}`, or a bare `$2b$…` /
/// `$argon2id$…`). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    /// Compared in constant time.
    Plain(String),
    /// A bcrypt hash (`$2a$`, `$2b$`, `$2x$`, `$2y$`).
    Bcrypt(String),
    /// An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    Argon2(String),
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Password::Plain(_) => "plain",
            Password::Bcrypt(_) => "bcrypt",
            Password::Argon2(_) => "argon2",
        };
        write!(f, "Password({kind}, redacted)")
    }
}

impl Password {
    /// Reads a configured password; a malformed hash or an unknown `{id}` prefix is an error
    /// naming what is accepted.
    pub fn parse(raw: &str) -> Result<Password, &'static str> {
        const BAD_BCRYPT: &str = "a bcrypt hash such as $2b$10$ followed by 53 characters";
        const BAD_ARGON2: &str = "an argon2 hash such as $argon2id$v=19$m=19456,t=2,p=1$salt$hash";
        const BAD_PREFIX: &str =
            "a plain password, or one prefixed {noop}, {bcrypt} or {argon2} (other encoders \
             are not supported)";
        let (prefix, rest) = match raw.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((id, rest)) => (Some(id), rest),
            None => (None, raw),
        };
        let is_bcrypt = |h: &str| ["$2a$", "$2b$", "$2x$", "$2y$"].iter().any(|p| h.starts_with(p));
        let bcrypt = |h: &str| match h.parse::<bcrypt::HashParts>() {
            Ok(_) => Ok(Password::Bcrypt(h.to_string())),
            Err(_) => Err(BAD_BCRYPT),
        };
        let argon2 = |h: &str| match argon2::PasswordHash::new(h) {
            Ok(parsed)
                if parsed.algorithm.as_str().starts_with("argon2") && parsed.hash.is_some() =>
            {
                Ok(Password::Argon2(h.to_string()))
            }
            _ => Err(BAD_ARGON2),
        };
        match prefix {
            Some("noop") => Ok(Password::Plain(rest.to_string())),
            Some("bcrypt") => bcrypt(rest),
            Some("argon2") => argon2(rest),
            Some(_) => Err(BAD_PREFIX),
            None if is_bcrypt(raw) => bcrypt(raw),
            None if raw.starts_with("$argon2") => argon2(raw),
            None => Ok(Password::Plain(raw.to_string())),
        }
    }

    /// Whether checking it costs a slow hash.
    pub fn is_slow(&self) -> bool {
        !matches!(self, Password::Plain(_))
    }

    /// Whether `given` is this password. Blocking for hashes (tens of milliseconds).
    pub fn verify(&self, given: &[u8]) -> bool {
        match self {
            Password::Plain(p) => p.as_bytes().ct_eq(given).into(),
            Password::Bcrypt(hash) => bcrypt::verify(given, hash).unwrap_or(false),
            Password::Argon2(hash) => {
                use argon2::PasswordVerifier;
                argon2::PasswordHash::new(hash)
                    .is_ok_and(|h| argon2::Argon2::default().verify_password(given, &h).is_ok())
            }
        }
    }
}

/// A secret from the configuration (a peer password): its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// One configured user, `eureka.security.users.<name>.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSettings {
    /// `…password`: required.
    pub password: Option<Password>,
    /// `…roles`: required, at least one.
    pub roles: Vec<Role>,
}

/// `eureka.security.*`: whether callers must authenticate, and who they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecuritySettings {
    /// `eureka.security.enabled`, default false: require HTTP Basic credentials.
    pub enabled: bool,
    /// `eureka.security.anonymous-read`, default false: let callers without credentials read.
    pub anonymous_read: bool,
    /// `eureka.security.protect-metrics`, default false: `/metrics` needs `read` too.
    pub protect_metrics: bool,
    /// `eureka.security.users.<name>.password|roles` (and Spring's `spring.security.user.*`).
    pub users: std::collections::BTreeMap<String, UserSettings>,
}

/// A user as the server knows it at run time.
#[derive(Debug)]
pub struct User {
    /// The user name; the owner recorded on the instances the user registers.
    pub name: Arc<str>,
    /// Effective roles.
    pub roles: Roles,
    password: Password,
}

/// Who is calling, once credentials were checked.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials were sent.
    Anonymous,
    /// Valid credentials of this user.
    User(Arc<User>),
}

/// Why credentials were refused (both are answered 401 with the same text, so a caller cannot
/// tell an unknown user from a wrong password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// The `Authorization` header is not `Basic base64(user:password)`.
    Malformed,
    /// Unknown user or wrong password.
    Invalid,
}

/// Checks credentials against the configured users, remembering headers that verified.
#[derive(Debug)]
pub struct Authenticator {
    settings: SecuritySettings,
    users: HashMap<String, Arc<User>>,
    verified: RwLock<HashMap<[u8; 32], Arc<User>>>,
    slow_checks: AtomicU64,
    slow_gate: Semaphore,
}

impl Authenticator {
    /// An authenticator for the configured users (users without a password are skipped;
    /// configuration validation refuses them).
    pub fn new(settings: &SecuritySettings) -> Self {
        let users = settings
            .users
            .iter()
            .filter_map(|(name, u)| {
                let user = User {
                    name: Arc::from(name.as_str()),
                    roles: Roles::of(&u.roles),
                    password: u.password.clone()?,
                };
                Some((name.clone(), Arc::new(user)))
            })
            .collect();
        Authenticator {
            settings: settings.clone(),
            users,
            verified: RwLock::new(HashMap::new()),
            slow_checks: AtomicU64::new(0),
            slow_gate: Semaphore::new(SLOW_CHECKS_AT_ONCE),
        }
    }

    /// Whether callers must authenticate at all.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Whether callers without credentials may read.
    pub fn anonymous_read(&self) -> bool {
        self.settings.anonymous_read
    }

    /// Whether `/metrics` needs credentials.
    pub fn protect_metrics(&self) -> bool {
        self.settings.protect_metrics
    }

    /// How many slow (hashed) password checks ran: what the verification cache saves.
    pub fn slow_checks(&self) -> u64 {
        self.slow_checks.load(Ordering::Relaxed)
    }

    /// Who sent `authorization` (the `Authorization` header's value, if any).
    pub async fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Caller, AuthError> {
        let Some(header) = authorization else { return Ok(Caller::Anonymous) };
        let key: [u8; 32] = {
            let digest = ring::digest::digest(&ring::digest::SHA256, header);
            let mut key = [0; 32];
            key.copy_from_slice(digest.as_ref());
            key
        };
        if let Some(user) = self.verified.read().get(&key) {
            return Ok(Caller::User(user.clone()));
        }
        let (name, password) = basic_credentials(header).ok_or(AuthError::Malformed)?;
        let user = self.users.get(&name).ok_or(AuthError::Invalid)?.clone();
        let verified = if !user.password.is_slow() {
            user.password.verify(password.as_bytes())
        } else {
            // The gate is never closed; a failed acquire could only mean shutdown.
            let _permit = self.slow_gate.acquire().await.map_err(|_| AuthError::Invalid)?;
            self.slow_checks.fetch_add(1, Ordering::Relaxed);
            let checked = user.clone();
            tokio::task::spawn_blocking(move || checked.password.verify(password.as_bytes()))
                .await
                .unwrap_or(false)
        };
        if !verified {
            return Err(AuthError::Invalid);
        }
        let mut cache = self.verified.write();
        if cache.len() >= VERIFIED_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, user.clone());
        Ok(Caller::User(user))
    }
}

/// `Basic base64(user:password)` → (user, password); `None` for anything else.
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, pass: &str) -> Vec<u8> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Basic {encoded}").into_bytes()
    }

    fn auth(users: &[(&str, &str, &[Role])]) -> Authenticator {
        let users = users
            .iter()
            .map(|(name, password, roles)| {
                let settings = UserSettings {
                    password: Some(Password::parse(password).expect("password")),
                    roles: roles.to_vec(),
                };
                (name.to_string(), settings)
            })
            .collect();
        Authenticator::new(&SecuritySettings { enabled: true, users, ..Default::default() })
    }

    #[test]
    fn roles_imply_what_the_documentation_says() {
        let write = Roles::of(&[Role::Write]);
        assert!(write.contains(Role::Read) && !write.contains(Role::Admin));
        let peer = Roles::of(&[Role::Peer]);
        assert!(peer.contains(Role::Read) && !peer.contains(Role::Write));
        let admin = Roles::of(&[Role::Admin]);
        assert!([Role::Read, Role::Write, Role::Peer].iter().all(|r| admin.contains(*r)));
        assert!(!Roles::of(&[Role::Read]).contains(Role::Write));
        assert_eq!(parse_roles(" READ , write"), Ok(vec![Role::Read, Role::Write]));
        assert!(parse_roles("read,superuser").is_err());
        assert!(parse_roles(" , ").is_err());
    }

    #[test]
    fn password_forms_are_recognised_and_malformed_hashes_refused() {
        assert_eq!(Password::parse("s3cret"), Ok(Password::Plain("s3cret".into())));
        assert_eq!(Password::parse("{noop}s3cret"), Ok(Password::Plain("s3cret".into())));
        let bcrypt_hash = bcrypt::hash("pw", 4).expect("hash");
        assert!(matches!(Password::parse(&bcrypt_hash), Ok(Password::Bcrypt(_))));
        assert!(matches!(
            Password::parse(&format!("{{bcrypt}}{bcrypt_hash}")),
            Ok(Password::Bcrypt(_))
        ));
        assert!(Password::parse("$2b$10$tooshort").is_err());
        assert!(Password::parse("{bcrypt}plain").is_err());
        assert!(Password::parse("$argon2id$v=19$garbage").is_err());
        assert!(Password::parse("{pbkdf2}abc").is_err());
        assert!(!format!("{:?}", Password::parse("s3cret").unwrap()).contains("s3cret"));
        assert!(!format!("{:?}", Secret::new("s3cret")).contains("s3cret"));
    }

    #[test]
    fn basic_headers_parse_strictly() {
        assert_eq!(basic_credentials(&header("a", "b:c")), Some(("a".into(), "b:c".into())));
        assert_eq!(basic_credentials(b"basic YTpi"), Some(("a".into(), "b".into())));
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        assert_eq!(basic_credentials(b"Basic YWJj"), None, "no colon");
        assert_eq!(basic_credentials(&[0xff, 0xfe]), None);
    }

    #[tokio::test]
    async fn plain_and_hashed_passwords_verify_and_hashes_are_checked_once() {
        let bcrypt_hash = bcrypt::hash("bpw", 4).expect("hash");
        let a = auth(&[("plain", "ppw", &[Role::Read]), ("hashed", &bcrypt_hash, &[Role::Write])]);
        assert!(matches!(a.authenticate(None).await, Ok(Caller::Anonymous)));
        assert!(matches!(a.authenticate(Some(&header("plain", "ppw"))).await, Ok(Caller::User(_))));
        assert_eq!(
            a.authenticate(Some(&header("plain", "nope"))).await.err(),
            Some(AuthError::Invalid)
        );
        assert_eq!(
            a.authenticate(Some(&header("nobody", "ppw"))).await.err(),
            Some(AuthError::Invalid)
        );
        assert_eq!(a.authenticate(Some(b"Token x")).await.err(), Some(AuthError::Malformed));
        assert_eq!(a.slow_checks(), 0);
        for _ in 0..3 {
            let Ok(Caller::User(u)) = a.authenticate(Some(&header("hashed", "bpw"))).await else {
                panic!("hashed user refused");
            };
            assert_eq!(&*u.name, "hashed");
        }
        assert_eq!(a.slow_checks(), 1, "one slow check, then the cache answers");
        assert_eq!(
            a.authenticate(Some(&header("hashed", "wrong"))).await.err(),
            Some(AuthError::Invalid)
        );
        assert_eq!(a.slow_checks(), 2, "wrong passwords are never cached");
    }
}
