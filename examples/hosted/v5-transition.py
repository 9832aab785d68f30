import requests

response = requests.post(
    "https://api.aimlapi.com/v2/video/generations",
    headers={
        "Content-Type": "application/json",
        "Authorization": "Bearer <YOUR_AIMLAPI_KEY>",
    },
    json={
      "model": "pixverse/v5/transition",
      "prompt": "The camera moves down, dives underwater and moves through a dark, moody world of greenish light and drifting plants. Giant white koi fish emerge from the shadows and turn curiously toward the camera as it passes, their scales shimmering faintly in the murky depths.",
      "image_url": "https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/landscape.jpg",
      "tail_image_url": "https://cdn.aimlapi.com/assets/content/white-fish.png"
    }
)

data = response.json()
print(data)
