//! AWS settings as AWS users expect them, for every AWS client cubed-rs
//! makes (S3 through object_store, Lambda through aws-sdk-lambda): the SDK's
//! default credential chain (environment variables, the shared config and
//! credentials files with `AWS_PROFILE` or `--profile`, SSO, web identity,
//! ECS/EKS container and EC2 instance roles) and region resolution (the
//! environment, then the profile). Loaded once per process.
//!
//! For public buckets (AWS Open Data) `AWS_SKIP_SIGNATURE=true` sends
//! unsigned S3 requests and needs no credentials.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use object_store::aws::AwsCredential;
use object_store::CredentialProvider;

/// The profile chosen on the command line (`--profile`), if any.
static PROFILE: OnceLock<Option<String>> = OnceLock::new();

/// Chooses the named profile of the shared config files for every AWS
/// client of this process (as `AWS_PROFILE` does). Call it before the first
/// AWS use; a later call, or one after the configuration was loaded, is an
/// error naming the profile in effect.
pub fn use_profile(name: Option<String>) -> Result<(), String> {
    let wanted = name.clone();
    PROFILE.set(name).map_err(|_| format!("the AWS profile is already chosen ({:?}); cannot change it to {wanted:?}", PROFILE.get().cloned().flatten()))
}

/// The process's AWS configuration (credentials chain and region), loaded
/// on first use.
pub async fn sdk_config() -> &'static SdkConfig {
    static CONFIG: tokio::sync::OnceCell<SdkConfig> = tokio::sync::OnceCell::const_new();
    CONFIG
        .get_or_init(|| async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(profile) = PROFILE.get_or_init(|| None) {
                loader = loader.profile_name(profile);
            }
            loader.load().await
        })
        .await
}

/// Refresh credentials this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// object_store credentials from the SDK's chain, cached until shortly
/// before they expire (object_store asks for them on every request).
#[derive(Debug)]
pub struct ChainCredentials {
    cache: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl ChainCredentials {
    /// A provider over the process's credential chain.
    pub fn new() -> ChainCredentials {
        ChainCredentials { cache: tokio::sync::Mutex::new(None) }
    }
}

impl Default for ChainCredentials {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl CredentialProvider for ChainCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cache = self.cache.lock().await;
        if let Some((credential, expiry)) = cache.as_ref() {
            if expiry.is_none_or(|t| SystemTime::now() + REFRESH_BEFORE_EXPIRY < t) {
                return Ok(credential.clone());
            }
        }
        let fail = |message: String| object_store::Error::Generic { store: "S3", source: message.into() };
        let config = sdk_config().await;
        let provider = config.credentials_provider().ok_or_else(|| fail(no_credentials("the AWS configuration has no credential provider")))?;
        let c = provider.provide_credentials().await.map_err(|e| fail(no_credentials(&error_chain(&e))))?;
        let credential = Arc::new(AwsCredential { key_id: c.access_key_id().into(), secret_key: c.secret_access_key().into(), token: c.session_token().map(str::to_string) });
        *cache = Some((credential.clone(), c.expiry()));
        Ok(credential)
    }
}

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// What to do when no credentials were found.
fn no_credentials(why: &str) -> String {
    format!(
        "no AWS credentials for S3 ({why}): set AWS_PROFILE or pass --profile (a profile of ~/.aws/config or ~/.aws/credentials; \
         run `aws sso login --profile NAME` for SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
         for a public bucket set AWS_SKIP_SIGNATURE=true"
    )
}
