"""Service behaviour, one module per service; ``HANDLERS`` maps signing name -> operation -> handler.

Every handler is ``fn(call, params) -> output dict`` and runs under the emulator lock with params
already validated against the operation's input shape.
"""

from . import autoscaling, cloudwatch, sagemaker, sns, sts, tagging

HANDLERS = {
    'sagemaker': sagemaker.OPERATIONS,
    'application-autoscaling': autoscaling.OPERATIONS,
    'monitoring': cloudwatch.OPERATIONS,
    'sns': sns.OPERATIONS,
    'sts': sts.OPERATIONS,
    'tagging': tagging.OPERATIONS,
}

UNSIGNED = {'sts': sts.UNSIGNED}
