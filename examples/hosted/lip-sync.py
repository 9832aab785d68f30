import requests

response = requests.post(
    "https://api.aimlapi.com/v2/video/generations",
    headers={
        "Content-Type": "application/json",
        "Authorization": "Bearer <YOUR_AIMLAPI_KEY>",
    },
    json={
      "model": "pixverse/lip-sync",
      "video_url": "https://storage.googleapis.com/falserverless/model_tests/kling/kling-v2.5-turbo-pro-text-to-video-output.mp4",
      "lip_sync_tts_content": "Hello World!",
      "lip_sync_tts_speaker": "Harper"
    }
)

data = response.json()
print(data)
