"""Features, preprocessing, model builders and the Trainer entry point.

The Keras code here is ``tf_keras`` (Keras 2), imported as such: it does not
depend on how ``tf.keras`` is routed in the process that loads it.
"""
