//! `gannet serve` settings: defaults, then `--config FILE`, then `GANNET_*` variables,
//! then flags, each overriding the one before (`--print-config` shows the result).

use std::process::{Command, Output};
use std::time::Duration;

fn serve(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
    command.arg("serve").args(args);
    for key in [
        "GANNET_LISTEN",
        "GANNET_MAX_BROWSERS",
        "GANNET_CONFIG",
        "GANNET_TOKEN",
    ] {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    gannet_testkit::output_within(&mut command, Duration::from_secs(30))
}

#[test]
fn file_then_environment_then_flags() {
    let dir = std::env::temp_dir().join(format!("gannet-serve-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gannet.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9001\"\n[pages]\nmax_in_flight = 7\n[browser]\nmax_browsers = 2\n[limits]\nresults = 3\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = serve(
        &["--config", path, "--print-config", "--max-browsers", "3"],
        &[
            ("GANNET_LISTEN", "127.0.0.1:9002"),
            ("GANNET_TOKEN", "0123456789abcdef-secret"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("listen = \"127.0.0.1:9002\""),
        "env over file: {text}"
    );
    assert!(
        text.contains("max_in_flight = 7"),
        "file over defaults: {text}"
    );
    assert!(text.contains("max_browsers = 3"), "flag over file: {text}");
    assert!(text.contains("results = 3"), "{text}");
    assert!(
        text.contains("rate_limit_per_minute = 600"),
        "defaults kept: {text}"
    );
    assert!(
        !text.contains("0123456789abcdef-secret"),
        "tokens are never printed"
    );

    // A typo is an error naming the key, with a non-zero exit.
    std::fs::write(&file, "[pages]\nmax_in_fligth = 7\n").unwrap();
    let out = serve(&["--config", path, "--print-config"], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_in_fligth"), "{err}");

    // A public address without a token is refused before anything starts.
    std::fs::write(&file, "listen = \"0.0.0.0:9003\"\n").unwrap();
    let out = serve(&["--config", path], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a token"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Start-up errors exit by kind (sysexits): a port in use is the operating system's refusal
/// (71), not a usage error (64); a job store that cannot be opened is an I/O error (74).
#[test]
fn start_up_errors_exit_by_kind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("gannet-serve-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let out = serve(&["--listen", &addr, "--data-dir", data, "-q"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(71), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.to_lowercase().contains("in use"), "{err}");

    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under_file = file.join("data");
    let out = serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            under_file.to_str().unwrap(),
            "-q",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{err}");
    assert!(err.contains("data directory"), "{err}");

    let out = serve(&["--listen", "0.0.0.0:0", "--data-dir", data], &[]);
    assert_eq!(
        out.status.code(),
        Some(64),
        "a bad setting stays a usage error"
    );
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}
