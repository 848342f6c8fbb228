"""Train and check a tiny gpt-oss (dev-only, needs torch): the model behind the harmony fixture.

Modules: ``model`` (the forward pass llama.cpp computes), ``vocab`` (llama.cpp's own tokenizer),
``data`` (the closed world rendered by the app's harmony renderer), ``train`` and ``evaluate``;
``french`` and ``lora`` train the LoRA adapter fixture on top of it (capitals answered in French).
"""
