"""AWS error values and the per-service conventions for them.

``AwsError`` is raised anywhere in request handling; the server encodes it as the service's protocol
requires (JSON ``{"__type", "message"}`` or Query ``<ErrorResponse>``). The helpers here pick the code
and HTTP status each service uses for the error classes that are shared by several modules
(authentication failures, validation failures, unknown operations).
"""


class AwsError(Exception):
    """An error reply: code as it appears on the wire, message, HTTP status, fault side."""

    def __init__(self, code, message, status=400, sender=True, headers=None):
        super().__init__('%s: %s' % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.headers = headers or {}


class DropConnection(Exception):
    """Close the client's connection without a reply (fault injection)."""


def is_query(service):
    return service in ('monitoring', 'sns', 'sts')


# -- authentication -------------------------------------------------------------------------

def missing_auth(service):
    if is_query(service):
        return AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
    return AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)


def incomplete_signature(service, message):
    if is_query(service):
        return AwsError('IncompleteSignature', message, 400)
    return AwsError('IncompleteSignatureException', message, 400)


def bad_signature(service, message=None):
    message = message or ('The request signature we calculated does not match the signature you '
                          'provided. Check your AWS Secret Access Key and signing method. Consult '
                          'the service documentation for details.')
    if is_query(service):
        return AwsError('SignatureDoesNotMatch', message, 403)
    return AwsError('InvalidSignatureException', message, 400)


def unknown_key(service):
    message = 'The security token included in the request is invalid.'
    if is_query(service):
        return AwsError('InvalidClientTokenId', message, 403)
    return AwsError('UnrecognizedClientException', message, 400)


def expired_token(service):
    message = 'The security token included in the request is expired'
    if is_query(service):
        return AwsError('ExpiredToken', message, 403)
    return AwsError('ExpiredTokenException', message, 400)


def signature_expired(service, message):
    """Clock skew over 5 minutes.

    JSON services: InvalidSignatureException 400. CloudWatch: RequestExpired 400. SNS and STS:
    SignatureDoesNotMatch 403 ("Signature expired: ..."), as those services answer.
    """
    if service == 'monitoring':
        return AwsError('RequestExpired', message, 400)
    if is_query(service):
        return AwsError('SignatureDoesNotMatch', message, 403)
    return AwsError('InvalidSignatureException', message, 400)


# -- routing ----------------------------------------------------------------------------------

def unknown_operation(service, name, version=None):
    if is_query(service):
        return AwsError('InvalidAction', 'Could not find operation %s for version %s'
                        % (name, version or 'NO_VERSION_SPECIFIED'), 400)
    return AwsError('UnknownOperationException', 'Unknown operation %s' % name, 400)


# -- validation -------------------------------------------------------------------------------

def validation(service, messages, kind='constraint'):
    """Model-validation failure(s) in the service's style.

    ``kind`` is 'constraint' (length, pattern, enum, range), 'missing' (required member absent)
    or 'type' (value not convertible to the member's type).
    """
    if isinstance(messages, str):
        messages = [messages]
    n = len(messages)
    text = '%d validation error%s detected: %s' % (n, '' if n == 1 else 's', '; '.join(messages))
    if not is_query(service):
        if kind == 'type':
            return AwsError('SerializationException', messages[0], 400)
        return AwsError('ValidationException', text, 400)
    if service == 'monitoring':
        if kind == 'missing':
            return AwsError('MissingParameter', messages[0], 400)
        if kind == 'type':
            return AwsError('InvalidParameterValue', messages[0], 400)
        return AwsError('ValidationError', text, 400)
    if service == 'sns':
        if kind == 'type':
            return AwsError('InvalidParameter', 'Invalid parameter: ' + messages[0], 400)
        return AwsError('ValidationError', text, 400)
    # sts
    if kind == 'type':
        return AwsError('InvalidParameterValue', messages[0], 400)
    return AwsError('ValidationError', text, 400)


def throttled(info):
    return AwsError(info.throttle_code, 'Rate exceeded', info.throttle_status)


def internal(info, status=500, code=None):
    if code is None:
        code = 'ServiceUnavailable' if status == 503 else info.internal_code
    message = ('Service is unavailable. Please try again later.' if status == 503
               else 'An internal error occurred. Please try again.')
    return AwsError(code, message, status, sender=False)
