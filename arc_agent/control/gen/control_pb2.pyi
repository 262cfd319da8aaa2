from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Follow(_message.Message):
    __slots__ = ("kind", "name", "channel", "version")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    channel: str
    version: int
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class AgentHello(_message.Message):
    __slots__ = ("instance_id", "service_name", "arc_version", "follows")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    ARC_VERSION_FIELD_NUMBER: _ClassVar[int]
    FOLLOWS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    service_name: str
    arc_version: str
    follows: _containers.RepeatedCompositeFieldContainer[Follow]
    def __init__(self, instance_id: _Optional[str] = ..., service_name: _Optional[str] = ..., arc_version: _Optional[str] = ..., follows: _Optional[_Iterable[_Union[Follow, _Mapping]]] = ...) -> None: ...

class Artifact(_message.Message):
    __slots__ = ("kind", "name", "channel", "source_channel", "version", "sha256", "size", "signature", "manifest_json")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    channel: str
    source_channel: str
    version: int
    sha256: str
    size: int
    signature: str
    manifest_json: bytes
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[str] = ..., source_channel: _Optional[str] = ..., version: _Optional[int] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ..., signature: _Optional[str] = ..., manifest_json: _Optional[bytes] = ...) -> None: ...

class Update(_message.Message):
    __slots__ = ("tenant", "artifact", "error")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    artifact: Artifact
    error: str
    def __init__(self, tenant: _Optional[str] = ..., artifact: _Optional[_Union[Artifact, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class FetchRequest(_message.Message):
    __slots__ = ("kind", "name", "version")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    version: int
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class AgentStatus(_message.Message):
    __slots__ = ("instance_id", "service_name", "arc_version", "in_use", "integrations", "last_flush_unix", "breaker_open", "counters", "last_error")
    class IntegrationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class CountersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    ARC_VERSION_FIELD_NUMBER: _ClassVar[int]
    IN_USE_FIELD_NUMBER: _ClassVar[int]
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_FLUSH_UNIX_FIELD_NUMBER: _ClassVar[int]
    BREAKER_OPEN_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    service_name: str
    arc_version: str
    in_use: _containers.RepeatedCompositeFieldContainer[Follow]
    integrations: _containers.ScalarMap[str, str]
    last_flush_unix: float
    breaker_open: bool
    counters: _containers.ScalarMap[str, int]
    last_error: str
    def __init__(self, instance_id: _Optional[str] = ..., service_name: _Optional[str] = ..., arc_version: _Optional[str] = ..., in_use: _Optional[_Iterable[_Union[Follow, _Mapping]]] = ..., integrations: _Optional[_Mapping[str, str]] = ..., last_flush_unix: _Optional[float] = ..., breaker_open: _Optional[bool] = ..., counters: _Optional[_Mapping[str, int]] = ..., last_error: _Optional[str] = ...) -> None: ...

class ReportAck(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("kind", "name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ArtifactInfo(_message.Message):
    __slots__ = ("kind", "name", "versions", "latest", "channels", "tenant", "shares")
    class ChannelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class SharesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    versions: int
    latest: int
    channels: _containers.ScalarMap[str, int]
    tenant: str
    shares: _containers.ScalarMap[str, float]
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., versions: _Optional[int] = ..., latest: _Optional[int] = ..., channels: _Optional[_Mapping[str, int]] = ..., tenant: _Optional[str] = ..., shares: _Optional[_Mapping[str, float]] = ...) -> None: ...

class ListReply(_message.Message):
    __slots__ = ("tenant", "artifacts")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    artifacts: _containers.RepeatedCompositeFieldContainer[ArtifactInfo]
    def __init__(self, tenant: _Optional[str] = ..., artifacts: _Optional[_Iterable[_Union[ArtifactInfo, _Mapping]]] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ("kind", "name", "version", "channel", "from_channel", "share")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    FROM_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    version: int
    channel: str
    from_channel: str
    share: float
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., channel: _Optional[str] = ..., from_channel: _Optional[str] = ..., share: _Optional[float] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("kind", "name", "channel")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    channel: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class ChannelReply(_message.Message):
    __slots__ = ("tenant", "kind", "name", "channel", "version", "previous", "share")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    kind: str
    name: str
    channel: str
    version: int
    previous: _containers.RepeatedScalarFieldContainer[int]
    share: float
    def __init__(self, tenant: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[str] = ..., version: _Optional[int] = ..., previous: _Optional[_Iterable[int]] = ..., share: _Optional[float] = ...) -> None: ...

class FleetRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AgentRecord(_message.Message):
    __slots__ = ("tenant", "instance_id", "service_name", "arc_version", "connected", "connected_unix", "last_report_unix", "status", "follows", "stale")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    ARC_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_UNIX_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_UNIX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FOLLOWS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    instance_id: str
    service_name: str
    arc_version: str
    connected: bool
    connected_unix: float
    last_report_unix: float
    status: AgentStatus
    follows: _containers.RepeatedCompositeFieldContainer[Follow]
    stale: bool
    def __init__(self, tenant: _Optional[str] = ..., instance_id: _Optional[str] = ..., service_name: _Optional[str] = ..., arc_version: _Optional[str] = ..., connected: _Optional[bool] = ..., connected_unix: _Optional[float] = ..., last_report_unix: _Optional[float] = ..., status: _Optional[_Union[AgentStatus, _Mapping]] = ..., follows: _Optional[_Iterable[_Union[Follow, _Mapping]]] = ..., stale: _Optional[bool] = ...) -> None: ...

class FleetReply(_message.Message):
    __slots__ = ("tenant", "agents")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    agents: _containers.RepeatedCompositeFieldContainer[AgentRecord]
    def __init__(self, tenant: _Optional[str] = ..., agents: _Optional[_Iterable[_Union[AgentRecord, _Mapping]]] = ...) -> None: ...

class PublishHeader(_message.Message):
    __slots__ = ("manifest_json", "channel")
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    manifest_json: bytes
    channel: str
    def __init__(self, manifest_json: _Optional[bytes] = ..., channel: _Optional[str] = ...) -> None: ...

class PublishChunk(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: PublishHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[PublishHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class ShowRequest(_message.Message):
    __slots__ = ("kind", "name", "version", "channel")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    version: int
    channel: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., channel: _Optional[str] = ...) -> None: ...

class ChannelInfo(_message.Message):
    __slots__ = ("channel", "version", "previous", "share", "updated")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    channel: str
    version: int
    previous: _containers.RepeatedScalarFieldContainer[int]
    share: float
    updated: str
    def __init__(self, channel: _Optional[str] = ..., version: _Optional[int] = ..., previous: _Optional[_Iterable[int]] = ..., share: _Optional[float] = ..., updated: _Optional[str] = ...) -> None: ...

class ShowReply(_message.Message):
    __slots__ = ("tenant", "manifest_json", "verified", "channels")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    manifest_json: bytes
    verified: str
    channels: _containers.RepeatedCompositeFieldContainer[ChannelInfo]
    def __init__(self, tenant: _Optional[str] = ..., manifest_json: _Optional[bytes] = ..., verified: _Optional[str] = ..., channels: _Optional[_Iterable[_Union[ChannelInfo, _Mapping]]] = ...) -> None: ...
