"""Service models and per-service protocol facts.

Owns loading botocore service models (the newest SageMaker and Application Auto Scaling models from
``<repo>/../shared/aws-models`` via ``AWS_DATA_PATH``; Debian's models for the others) and the table of
facts the server needs per SigV4 signing name: protocol, JSON target prefix, Query API version and XML
namespace, and the codes the service uses for throttling and internal errors.
"""

import os
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
SHARED_MODELS = os.path.normpath(os.path.join(REPO_ROOT, '..', 'shared', 'aws-models'))


def ensure_data_path():
    """Put the shared models first on AWS_DATA_PATH (before botocore creates a loader)."""
    current = os.environ.get('AWS_DATA_PATH', '')
    parts = [p for p in current.split(os.pathsep) if p]
    if os.path.isdir(SHARED_MODELS) and SHARED_MODELS not in parts:
        os.environ['AWS_DATA_PATH'] = os.pathsep.join([SHARED_MODELS] + parts)


ensure_data_path()

import botocore.session  # noqa: E402  (must follow ensure_data_path)


class ServiceInfo:
    """Static facts about one emulated service, keyed by its SigV4 signing name."""

    def __init__(self, signing_name, botocore_name, protocol, target_prefix=None,
                 throttle_code='ThrottlingException', throttle_status=400,
                 internal_code='InternalFailure', json_alt_prefix=None):
        self.signing_name = signing_name
        self.botocore_name = botocore_name
        self.protocol = protocol              # 'json' or 'query'
        self.target_prefix = target_prefix    # JSON: X-Amz-Target prefix
        self.json_alt_prefix = json_alt_prefix  # query service also reachable over JSON 1.0
        self.throttle_code = throttle_code
        self.throttle_status = throttle_status
        self.internal_code = internal_code
        self.model = None

    @property
    def api_version(self):
        return self.model.api_version

    @property
    def xmlns(self):
        return self.model.metadata.get('xmlNamespace')

    def operation(self, name):
        """The botocore OperationModel for ``name`` or None."""
        if name not in self._op_names:
            return None
        return self.model.operation_model(name)


SERVICES = {
    'sagemaker': ServiceInfo('sagemaker', 'sagemaker', 'json', 'SageMaker',
                             internal_code='InternalFailure'),
    'application-autoscaling': ServiceInfo('application-autoscaling', 'application-autoscaling',
                                           'json', 'AnyScaleFrontendService',
                                           internal_code='InternalServiceException'),
    'monitoring': ServiceInfo('monitoring', 'cloudwatch', 'query', throttle_code='Throttling',
                              internal_code='InternalServiceError',
                              json_alt_prefix='GraniteServiceVersion20100801'),
    'sns': ServiceInfo('sns', 'sns', 'query', throttle_code='Throttled', throttle_status=429,
                       internal_code='InternalError'),
    'sts': ServiceInfo('sts', 'sts', 'query', throttle_code='Throttling',
                       internal_code='InternalFailure'),
    'tagging': ServiceInfo('tagging', 'resourcegroupstaggingapi', 'json',
                           'ResourceGroupsTaggingAPI_20170126', throttle_code='ThrottledException',
                           internal_code='InternalServiceException'),
}

# X-Amz-Target prefix -> (signing name, protocol used on the wire)
TARGET_PREFIXES = {}
# Query Version -> signing name
QUERY_VERSIONS = {}

_loaded = False
_lock = threading.Lock()


def load():
    """Load every service model once (idempotent, thread-safe)."""
    global _loaded
    with _lock:
        if _loaded:
            return SERVICES
        session = botocore.session.get_session()
        for info in SERVICES.values():
            info.model = session.get_service_model(info.botocore_name)
            info._op_names = frozenset(info.model.operation_names)
            if info.target_prefix:
                TARGET_PREFIXES[info.target_prefix] = (info.signing_name, 'json')
            if info.json_alt_prefix:
                TARGET_PREFIXES[info.json_alt_prefix] = (info.signing_name, 'json')
            if info.protocol == 'query':
                QUERY_VERSIONS[info.api_version] = info.signing_name
        _loaded = True
        return SERVICES
