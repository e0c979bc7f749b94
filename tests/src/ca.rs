//! A certificate authority made for one test, for TLS that clients really verify.

use std::path::PathBuf;

/// A certificate authority made for one test, and the server certificates it issues,
/// as PEM files in a temporary directory: what an administrator would get from a real
/// CA, so that clients can verify the whole chain and the host name.
pub struct TestCa {
    dir: tempfile::TempDir,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    /// The CA certificate, for clients to trust (`cafile`, `--cacert`, `SSL_CERT_FILE`).
    pub cert: PathBuf,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").field("cert", &self.cert).finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA, "Mailroom Test CA".
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Mailroom Test CA");
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        let cert = dir.path().join("ca.pem");
        std::fs::write(&cert, issuer.pem()).expect("write CA");
        TestCa { dir, issuer, cert }
    }

    /// A server certificate for `names` (DNS names or IP addresses; the first is also
    /// the common name): the paths of its certificate and key files.
    pub fn issue(&self, names: &[&str]) -> (PathBuf, PathBuf) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("params");
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let stem = names[0].replace(['.', ':'], "_");
        let (cert_path, key_path) =
            (self.dir.path().join(format!("{stem}.crt.pem")), self.dir.path().join(format!("{stem}.key.pem")));
        std::fs::write(&cert_path, cert.pem()).expect("write certificate");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}
