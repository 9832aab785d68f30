import requests

response = requests.post(
    "https://api.aimlapi.com/v2/video/generations",
    headers={
        "Content-Type": "application/json",
        "Authorization": "Bearer <YOUR_AIMLAPI_KEY>",
    },
    json={
      "model": "pixverse/v5/image-to-video",
      "prompt": "Mona Lisa puts on glasses with her hands.",
      "image_url": "https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/mona_lisa_extended.jpg"
    }
)

data = response.json()
print(data)
