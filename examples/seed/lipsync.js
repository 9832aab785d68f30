// Insert your AIML API Key instead of <YOUR_AIMLAPI_KEY>
const apiKey = '<YOUR_AIMLAPI_KEY>';

// Creating and sending a video generation task to the server
async function generateVideo() {
  const url = 'https://api.aimlapi.com/v2/video/generations';
  const data = {
    model: 'pixverse/v5/image-to-video',
    image_url: 'https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/news-presenter.jpg',
    prompt: 'A young news presenter standing in the studio, facing the camera directly, eyes always on the camera, calm and professional, very still posture, minimal head movement, no sudden gestures, with a gentle friendly smile, confident stance, studio lighting, broadcast framing, realistic style, neutral background activity.',
    lip_sync_tts_content: 'Hello and welcome. This is our latest news update, and here are the headlines.',
    lip_sync_tts_speaker: 'Chloe'
  };

  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${apiKey}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(data),
    });

    if (!response.ok) {
      const errorText = await response.text();
      console.error(`Error: ${response.status} - ${errorText}`);
      return null;
    }

    const responseData = await response.json();
    console.log(responseData);
    return responseData;
  } catch (error) {
    console.error('Request failed:', error);
    return null;
  }
}

// Requesting the result of the task from the server using the generation_id
async function getVideo(genId) {
  const url = new URL('https://api.aimlapi.com/v2/video/generations');
  url.searchParams.append('generation_id', genId);

  try {
    const response = await fetch(url, {
      method: 'GET',
      headers: {
        Authorization: `Bearer ${apiKey}`,
        'Content-Type': 'application/json',
      },
    });

    return await response.json();
  } catch (error) {
    console.error('Error fetching video:', error);
    return null;
  }
}

// Initiates video generation and checks the status every 15 seconds until completion or timeout
async function main() {
  const genResponse = await generateVideo();
  if (!genResponse || !genResponse.id) {
    console.error("No generation ID received.");
    return;
  }

  const genId = genResponse.id;
  console.log("Generation ID:", genId);

  const timeout = 1000 * 1000; // 1000 sec
  const interval = 15 * 1000; // 15 sec
  const startTime = Date.now();

  const checkStatus = async () => {
    if (Date.now() - startTime >= timeout) {
      console.log("Timeout reached. Stopping.");
      return;
    }

    const responseData = await getVideo(genId);
    if (!responseData) {
      console.error("Error: No response from API");
      return;
    }

    const status = responseData.status;

    if (["waiting", "queued", "generating"].includes(status)) {
      console.log(`Status: ${status}. Checking again in 15 seconds.`);
      await new Promise(resolve => setTimeout(resolve, interval));
      return checkStatus();
    } else {
      console.log("Processing complete:\n", responseData);
    }
  };

  await checkStatus();
}

main();
