-- wrk script: one forecast request of one 30-step window, as lstmcast bench sends.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs": [[5012.5,5020.1,5031.8,5027.3,5019.9,5024.6,5033.2,5041.7,5038.4,5045.0,5051.3,5047.8,5055.6,5062.1,5058.9,5066.4,5071.0,5068.2,5075.7,5080.3,5077.1,5084.9,5090.2,5086.5,5093.8,5099.4,5095.7,5102.3,5108.6,5104.9]]}'
