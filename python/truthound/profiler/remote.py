"""Remote file sources: ``s3://`` and every filesystem pyarrow or an installed fsspec
implementation handles (``gs://``, ``abfs://``, ``http(s)://``, ``hdfs://``, ...).

A URI becomes a pyarrow :class:`~pyarrow.fs.FileSystem` plus the files it names (one object, a
directory/prefix, or a glob), which :mod:`truthound.profiler.sources` turns into the same
dataset a local path gives. The filesystem object carries the endpoint, region and credentials,
and pickles: the pieces of a distributed run take it to each worker, which opens its own file
(Parquet: range requests for the footer and the column chunks it reads; nothing passes through
the driver).

``s3://`` (and ``s3a://``) is read with pyarrow's own S3 filesystem. Its settings come from the
standard AWS environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``,
``AWS_PROFILE`` through the AWS SDK's own chain) and are overridden by ``storage_options``
(keys below). Other schemes take ``storage_options`` as the fsspec filesystem's keyword
arguments. Secrets never appear in a message: :func:`public_uri` drops a URI's user info and
query, :func:`redact` removes every secret value from an error text.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pa_fs

from truthound.errors import ConfigurationError, SourceNotFoundError, SourceReadError

__all__ = [
    "S3_OPTIONS", "RemoteFiles", "is_remote", "public_uri", "redact", "remote_filesystem",
    "resolve_remote", "parse_storage_options",
]

# storage_options keys for s3:// (values are text; numbers and booleans as their text too)
S3_OPTIONS = frozenset({
    "access_key", "secret_key", "session_token", "region", "endpoint_url", "profile",
    "anonymous", "connect_timeout", "request_timeout", "max_attempts",
})
_SECRET_KEYS = frozenset({"secret_key", "session_token", "access_key", "password", "token",
                          "account_key", "sas_token", "client_secret", "key", "secret"})
# An endpoint that refuses fails at once; one that does not answer within about
# (connect_timeout or request_timeout) * max_attempts seconds. request_timeout is curl's
# low-speed limit (no byte for that long), not a bound on a whole download.
_CONNECT_TIMEOUT = 5.0
_REQUEST_TIMEOUT = 10.0
_MAX_ATTEMPTS = 2
_S3_SCHEMES = ("s3", "s3a")
# the package that gives a scheme, for the message of a scheme nothing here can read
_PACKAGES = {"gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs", "abfss": "adlfs", "az": "adlfs",
             "adl": "adlfs", "http": "fsspec and aiohttp", "https": "fsspec and aiohttp",
             "hdfs": "pyarrow with libhdfs (or fsspec)", "sftp": "paramiko", "ssh": "paramiko"}
_IGNORED_PREFIXES = (".", "_")


def is_remote(source: str) -> bool:
    """Whether ``source`` is a URI of a filesystem other than the local one."""
    return "://" in source and not source.startswith("file://")


def public_uri(uri: str) -> str:
    """``uri`` without user info (``user:secret@``) and query: what messages and the profile's
    ``source`` may show."""
    if "://" not in uri:
        return uri
    parts = urlsplit(uri)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


_MIN_SECRET = 4  # shorter values are no real secret, and would mangle the text


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret value (of at least 4 characters) replaced by ``***``."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            text = text.replace(secret, "***")
    return text


def parse_storage_options(items: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` texts (``th profile --storage-option``) as a dict; a malformed one raises
    ConfigurationError naming it (without its value, which may be a secret)."""
    options: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(
                f"option '--storage-option' must be KEY=VALUE, got one without '=' "
                f"(key {key.strip()[:40]!r})" if not sep else
                "option '--storage-option' must be KEY=VALUE, got an empty key")
        options[key.strip()] = value
    return options


def _check_options(storage_options: Mapping[str, object] | None) -> dict[str, str]:
    if storage_options is None:
        return {}
    if not isinstance(storage_options, Mapping) or not all(
        isinstance(k, str) for k in storage_options
    ):
        raise ConfigurationError(
            "option 'storage_options' must be a dict of option names to values")
    return {k: str(v) for k, v in storage_options.items() if v is not None}


def _secrets(options: Mapping[str, str], uri: str) -> tuple[str, ...]:
    found = [v for k, v in options.items() if k.lower() in _SECRET_KEYS]
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
        if os.environ.get(name):
            found.append(os.environ[name])
    info = urlsplit(uri).netloc.rpartition("@")[0] if "://" in uri else ""
    found.extend(p for p in info.split(":") if p)
    return tuple(sorted(set(found), key=len, reverse=True))


def _number(options: Mapping[str, str], key: str, default: float) -> float:
    if key not in options:
        return default
    try:
        value = float(options[key])
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigurationError(
            f"storage option {key!r} must be a positive number, got {options[key]!r}")
    return value


def _s3_filesystem(options: Mapping[str, str]) -> pa_fs.FileSystem:
    unknown = sorted(set(options) - S3_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"unknown storage option {unknown[0]!r} for s3://; known: {', '.join(sorted(S3_OPTIONS))}")
    env = os.environ
    kwargs: dict[str, object] = {
        "connect_timeout": _number(options, "connect_timeout", _CONNECT_TIMEOUT),
        "request_timeout": _number(options, "request_timeout", _REQUEST_TIMEOUT),
        "retry_strategy": pa_fs.AwsStandardS3RetryStrategy(
            max_attempts=int(_number(options, "max_attempts", _MAX_ATTEMPTS))),
    }
    region = options.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    endpoint = (options.get("endpoint_url") or env.get("AWS_ENDPOINT_URL_S3")
                or env.get("AWS_ENDPOINT_URL"))
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme or "https"
    if options.get("anonymous", "").lower() in ("1", "true", "yes"):
        kwargs["anonymous"] = True
    elif options.get("access_key") or options.get("secret_key"):
        kwargs["access_key"] = options.get("access_key", "")
        kwargs["secret_key"] = options.get("secret_key", "")
        if options.get("session_token"):
            kwargs["session_token"] = options["session_token"]
    elif options.get("profile") or env.get("AWS_PROFILE"):
        # The AWS SDK's chain reads the profile; spelled out here so workers in other processes
        # (which pickle the filesystem, not the environment) see the same credentials.
        kwargs.update(_profile_credentials(options.get("profile") or env["AWS_PROFILE"]))
    elif env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        kwargs["access_key"] = env["AWS_ACCESS_KEY_ID"]
        kwargs["secret_key"] = env["AWS_SECRET_ACCESS_KEY"]
        if env.get("AWS_SESSION_TOKEN"):
            kwargs["session_token"] = env["AWS_SESSION_TOKEN"]
    return pa_fs.S3FileSystem(**kwargs)


def _profile_credentials(profile: str) -> dict[str, str]:
    """Keys of an AWS profile from the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``,
    default ``~/.aws/credentials``), or {} to leave them to the AWS SDK's own chain."""
    import configparser

    path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return {}
    if not parser.has_section(profile):
        return {}
    section = parser[profile]
    out = {}
    for key, name in (("aws_access_key_id", "access_key"), ("aws_secret_access_key", "secret_key"),
                      ("aws_session_token", "session_token")):
        if section.get(key):
            out[name] = section[key]
    return out


def _fsspec_filesystem(
    scheme: str, options: Mapping[str, str], uri: str
) -> tuple[pa_fs.FileSystem, str]:
    """An fsspec implementation of ``scheme`` as a pyarrow filesystem, and ``uri``'s path in it."""
    try:
        import fsspec
    except ImportError:
        fsspec = None
    if fsspec is not None:
        try:
            cls = fsspec.get_filesystem_class(scheme)
        except ValueError:
            cls = None  # a scheme fsspec does not know
        except ImportError as exc:
            raise ConfigurationError(
                f"{scheme}:// needs a package that is not installed: {_first_line(str(exc))}"
            ) from None
        if cls is not None:
            try:
                fs = cls(**options)
            except TypeError as exc:
                raise ConfigurationError(f"storage options for {scheme}://: {exc}") from None
            path = str(fs._strip_protocol(public_uri(uri))).rstrip("/")
            return pa_fs.PyFileSystem(pa_fs.FSSpecHandler(fs)), path
    package = _PACKAGES.get(scheme, "an fsspec implementation for it")
    raise ConfigurationError(
        f"unknown URI scheme {scheme}://: install {package} (fsspec's registry names the "
        "packages for other schemes)")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def remote_filesystem(
    uri: str, storage_options: Mapping[str, object] | None = None
) -> tuple[pa_fs.FileSystem, str, tuple[str, ...]]:
    """(filesystem, path inside it, secrets to keep out of messages) of a remote ``uri``."""
    options = _check_options(storage_options)
    secrets = _secrets(options, uri)
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = parts.netloc.rsplit("@", 1)[-1]
    if scheme in _S3_SCHEMES:
        if "@" in parts.netloc and "access_key" not in options:
            # s3://KEY:SECRET@bucket/... as pyarrow spells it
            from urllib.parse import unquote

            key, _, secret = parts.netloc.rpartition("@")[0].partition(":")
            options = {**options, "access_key": unquote(key), "secret_key": unquote(secret)}
            secrets = tuple(sorted(set(secrets) | {unquote(key), unquote(secret)}, key=len,
                                   reverse=True))
        return _s3_filesystem(options), (host + parts.path).rstrip("/") or host, secrets
    if scheme in ("http", "https"):
        fs, path = _fsspec_filesystem(scheme, options, uri)
        return fs, path, secrets
    if not options:
        try:
            fs, path = pa_fs.FileSystem.from_uri(uri)
            return fs, path, secrets
        except (pa.ArrowException, ValueError, OSError):
            pass  # a scheme pyarrow has not built in: fsspec's
    fs, path = _fsspec_filesystem(scheme, options, uri)
    return fs, path, secrets


@dataclass(frozen=True)
class RemoteFiles:
    """The data files a URI names, as paths of ``filesystem``, and the hive partition base."""

    filesystem: pa_fs.FileSystem
    files: list[str]
    base: str | None
    secrets: tuple[str, ...]


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def _ignored(relative: str) -> bool:
    return any(part.startswith(_IGNORED_PREFIXES) for part in relative.split("/") if part)


def _matches(path: str, pattern: str) -> bool:
    """Glob matching as the local glob does: ``*`` stays inside one path segment, ``**``
    crosses them."""
    if "**" in pattern:
        return fnmatch.fnmatchcase(path, pattern)
    parts, pats = path.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pats))


def _check_bucket(fs: pa_fs.FileSystem, path: str, shown: str) -> None:
    """Raise SourceNotFoundError naming the bucket when the first segment of ``path`` (an S3
    bucket) does not exist."""
    if not isinstance(fs, pa_fs.S3FileSystem) or "/" not in path:
        return
    bucket = path.split("/", 1)[0]
    if fs.get_file_info(bucket).type == pa_fs.FileType.NotFound:
        raise SourceNotFoundError(f"{shown}: no such bucket {bucket!r}")


def display_path(path: str, filesystem: pa_fs.FileSystem | None) -> str:
    """A file of ``filesystem`` as its URI (``s3://bucket/key``), a local one as its path."""
    if filesystem is None or isinstance(filesystem, pa_fs.LocalFileSystem):
        return path
    if isinstance(filesystem, pa_fs.S3FileSystem):
        return f"s3://{path}"
    if isinstance(filesystem, pa_fs.PyFileSystem):
        handler = filesystem.handler
        if isinstance(handler, pa_fs.FSSpecHandler):
            return str(handler.fs.unstrip_protocol(path))
    return f"{filesystem.type_name}://{path}"


def public_message(
    text: str, filesystem: pa_fs.FileSystem, files: list[str], secrets: tuple[str, ...]
) -> str:
    """An error text about remote ``files`` with the file it starts with given as its URI and
    the secrets removed."""
    text = redact(text, secrets)
    for path in files:
        if text.startswith(path + ":") or text.startswith(path + " "):
            return display_path(path, filesystem) + text[len(path):]
    return text


def resolve_many(
    uris: list[str], storage_options: Mapping[str, object] | None = None
) -> RemoteFiles:
    """The files of several URIs of one scheme (profiled as one table), in the order given."""
    schemes = {u.split("://", 1)[0].lower() if "://" in u else "" for u in uris}
    if len(schemes) != 1 or "" in schemes:
        raise SourceReadError(
            f"{public_uri(next(u for u in uris if is_remote(u)))}: several sources must all be "
            "URIs of one scheme, or all local paths")
    found = [resolve_remote(u, storage_options) for u in uris]
    files = list(dict.fromkeys(f for r in found for f in r.files))
    return RemoteFiles(found[0].filesystem, files, None, found[0].secrets)


def resolve_remote(uri: str, storage_options: Mapping[str, object] | None = None) -> RemoteFiles:
    """The files of a remote file, directory (prefix) or glob. A missing bucket, key or prefix
    raises SourceNotFoundError, other failures (access denied, an endpoint that does not
    answer) SourceReadError; each names the URI without credentials."""
    shown = public_uri(uri)
    fs, path, secrets = remote_filesystem(uri, storage_options)

    def failure(exc: BaseException) -> SourceReadError | SourceNotFoundError:
        text = redact(_first_line(str(exc)), secrets)
        if isinstance(exc, FileNotFoundError) or "NoSuchBucket" in text or "NOT_FOUND" in text:
            return SourceNotFoundError(f"{shown}: no such bucket, file or directory ({text})")
        return SourceReadError(f"{shown}: {text}")

    try:
        if _has_magic(path):
            segments = path.split("/")
            first = next(i for i, s in enumerate(segments) if _has_magic(s))
            base = "/".join(segments[:first])
            infos = fs.get_file_info(
                pa_fs.FileSelector(base, recursive=True, allow_not_found=True))
            files = sorted(
                i.path for i in infos
                if i.type == pa_fs.FileType.File and _matches(i.path, path)
                and not _ignored(i.path[len(base):])
            )
            if files:
                return RemoteFiles(fs, files, base, secrets)
            _check_bucket(fs, path, shown)
            raise SourceNotFoundError(f"{shown}: no file matches")
        info = fs.get_file_info(path)
        if info.type == pa_fs.FileType.File:
            return RemoteFiles(fs, [path], None, secrets)
        if info.type == pa_fs.FileType.Directory:
            infos = fs.get_file_info(pa_fs.FileSelector(path, recursive=True))
            files = sorted(i.path for i in infos if i.type == pa_fs.FileType.File
                           and not _ignored(i.path[len(path):]))
            if not files:
                raise SourceNotFoundError(f"{shown}: a directory that holds no data file")
            return RemoteFiles(fs, files, path, secrets)
        _check_bucket(fs, path, shown)
    except (SourceReadError, SourceNotFoundError):
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise failure(exc) from None
    raise SourceNotFoundError(f"{shown}: no such file or directory")
